# made by loadtest/compare; gnuplot db-latency.gp (from the results folder's charts/)
$m0 << EOD
0.812831 100.356 104.069
8.12831 1003.54 1004.49
81.2831 2509.54 4917.53
812.831 2509.06 4917.57
EOD
$m1 << EOD
0.851138 100.326 101.757
8.51138 100.439 100.995
85.1138 100.429 102.094
851.138 100.271 106.885
EOD
$m2 << EOD
0.891251 100.425 101.242
8.91251 100.525 200.552
89.1251 1204.82 1305.19
891.251 2506.57 4913.69
EOD
$m3 << EOD
0.933254 100.389 101.007
9.33254 100.69 101.047
93.3254 101.674 103.569
933.254 101.127 110.956
EOD
$m4 << EOD
0.977237 100.394 102.061
9.77237 100.456 200.618
97.7237 1205.12 1304.9
977.237 2507.66 4914.26
EOD
$m5 << EOD
1.02329 100.383 102.042
10.2329 100.528 100.938
102.329 100.868 101.916
1023.29 101.126 107.551
EOD
$m6 << EOD
1.07152 100.452 101.041
10.7152 100.666 101.163
107.152 101.237 102.801
1071.52 101.362 117.11
EOD
$m7 << EOD
1.12202 100.381 100.637
11.2202 100.486 101.516
112.202 100.918 102.751
1122.02 101.033 103.751
EOD
$m8 << EOD
1.1749 100.631 100.94
11.749 100.762 101.807
117.49 100.663 3654.49
1174.9 100.435 2278.91
EOD
$m9 << EOD
1.23027 100.75 101.088
12.3027 100.785 101.802
123.027 100.793 103.908
1230.27 114.983 151.05
EOD
$err << EOD
81.2831 5000
812.831 5000
891.251 5000
977.237 5000
1174.9 5000
EOD
$errl << EOD
81.2831 3622.18 "50 t/o" 0x9467bd
812.831 3622.18 "50 t/o" 0x9467bd
891.251 3622.18 "400 t/o" 0x2ca02c
977.237 4886.19 "400 t/o" 0x8c564b
1174.9 3622.18 "121 t/o" 0xbcbd22
EOD
set title "/db?delay=100 — latency p50 and p99"
set xlabel "connections offered by wrk (log)"
set ylabel "milliseconds (log)"
set logscale xy
set xrange [0.625:1600]
set grid xtics ytics lc rgb '#dddddd'
set key outside right top spacing 1.1 font ',10'
set border lc rgb '#555555'
set xtics ('1' 1, '10' 10, '100' 100, '1000' 1000)
set mxtics default
set ytics format '%g'
set yrange [100:10000]

set key below center horizontal maxcols 3 spacing 1.0 font ',9'
set terminal svg size 760,556 noenhanced font 'sans,11' background rgb 'white'
set output 'db-latency.svg'
plot $m0 using 1:2 with linespoints lw 3.5 pt 7 ps 1.60 lc rgb '#9467bd' title 'iterative p50', \
     $m0 using 1:3 with linespoints dt 2 lw 3.0 pt 6 ps 1.60 lc rgb '#9467bd' title 'iterative p99', \
     $m1 using 1:2 with linespoints lw 3.3 pt 5 ps 1.52 lc rgb '#1f77b4' title 'threads p50', \
     $m1 using 1:3 with linespoints dt 2 lw 2.8 pt 4 ps 1.52 lc rgb '#1f77b4' title 'threads p99', \
     $m2 using 1:2 with linespoints lw 3.1 pt 9 ps 1.44 lc rgb '#2ca02c' title 'prefork p50', \
     $m2 using 1:3 with linespoints dt 2 lw 2.6 pt 8 ps 1.44 lc rgb '#2ca02c' title 'prefork p99', \
     $m3 using 1:2 with linespoints lw 2.8 pt 13 ps 1.37 lc rgb '#ff7f0e' title 'event p50', \
     $m3 using 1:3 with linespoints dt 2 lw 2.3 pt 12 ps 1.37 lc rgb '#ff7f0e' title 'event p99', \
     $m4 using 1:2 with linespoints lw 2.6 pt 11 ps 1.29 lc rgb '#8c564b' title 'pool p50', \
     $m4 using 1:3 with linespoints dt 2 lw 2.1 pt 10 ps 1.29 lc rgb '#8c564b' title 'pool p99', \
     $m5 using 1:2 with linespoints lw 2.4 pt 15 ps 1.21 lc rgb '#e377c2' title 'reactors p50', \
     $m5 using 1:3 with linespoints dt 2 lw 1.9 pt 14 ps 1.21 lc rgb '#e377c2' title 'reactors p99', \
     $m6 using 1:2 with linespoints lw 2.2 pt 3 ps 1.13 lc rgb '#17becf' title 'offload p50', \
     $m6 using 1:3 with linespoints dt 2 lw 1.7 pt 3 ps 1.13 lc rgb '#17becf' title 'offload p99', \
     $m7 using 1:2 with linespoints lw 1.9 pt 6 ps 1.06 lc rgb '#7f7f7f' title 'nginx p50', \
     $m7 using 1:3 with linespoints dt 2 lw 1.4 pt 6 ps 1.06 lc rgb '#7f7f7f' title 'nginx p99', \
     $m8 using 1:2 with linespoints lw 1.7 pt 4 ps 0.98 lc rgb '#bcbd22' title 'apache-prefork p50', \
     $m8 using 1:3 with linespoints dt 2 lw 1.2 pt 4 ps 0.98 lc rgb '#bcbd22' title 'apache-prefork p99', \
     $m9 using 1:2 with linespoints lw 1.5 pt 8 ps 0.90 lc rgb '#393b79' title 'apache-worker p50', \
     $m9 using 1:3 with linespoints dt 2 lw 1.0 pt 8 ps 0.90 lc rgb '#393b79' title 'apache-worker p99', \
     $err using 1:2 with points pt 6 ps 2 lw 2 lc rgb '#d00000' title 'timeouts (not in p50/p99)', \
     $errl using 1:2:3:4 with labels font ',9' tc rgb variable notitle, \
     5000 with lines dt 3 lw 1 lc rgb '#d00000' title 'wrk --timeout 5s'
set terminal pngcairo size 760,556 noenhanced font 'sans,10' background rgb 'white'
set output 'db-latency.png'
replot
unset output
