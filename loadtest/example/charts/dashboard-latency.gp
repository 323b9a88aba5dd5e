# made by loadtest/compare; gnuplot dashboard-latency.gp (from the results folder's charts/)
$m0 << EOD
0.812831 400.721 401.02
8.12831 4007.16 4008.38
81.2831 2804.61 4808.82
812.831 2806.43 4811.06
EOD
$m1 << EOD
0.851138 400.935 403.434
8.51138 400.974 401.575
85.1138 400.861 404.462
851.138 400.75 427.42
EOD
$m2 << EOD
0.891251 400.97 401.392
8.91251 401.139 801.935
89.1251 4008.28 4812.04
891.251 2804.51 4808.92
EOD
$m3 << EOD
0.933254 100.401 102.66
9.33254 100.649 102.673
93.3254 102.095 103.774
933.254 101.147 115.291
EOD
$m4 << EOD
0.977237 400.837 401.345
9.77237 400.996 801.833
97.7237 4009.1 4811.24
977.237 2805.07 4810.05
EOD
$m5 << EOD
1.02329 100.374 100.828
10.2329 100.597 104.943
102.329 101.042 102.398
1023.29 101.146 107.522
EOD
$m6 << EOD
1.07152 100.42 100.836
10.7152 100.909 101.731
107.152 101.771 104.369
1071.52 101.667 114.142
EOD
$err << EOD
81.2831 5000
812.831 5000
89.1251 5000
891.251 5000
97.7237 5000
977.237 5000
EOD
$errl << EOD
81.2831 3622.18 "12 t/o" 0x9467bd
812.831 3622.18 "12 t/o" 0x9467bd
89.1251 3622.18 "51 t/o" 0x2ca02c
97.7237 4886.19 "52 t/o" 0x8c564b
891.251 3622.18 "98 t/o" 0x2ca02c
977.237 4886.19 "103 t/o" 0x8c564b
EOD
set title "/dashboard?delay=100&widgets=4 — latency p50 and p99"
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
set terminal svg size 760,522 noenhanced font 'sans,11' background rgb 'white'
set output 'dashboard-latency.svg'
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
     $err using 1:2 with points pt 6 ps 2 lw 2 lc rgb '#d00000' title 'timeouts (not in p50/p99)', \
     $errl using 1:2:3:4 with labels font ',9' tc rgb variable notitle, \
     5000 with lines dt 3 lw 1 lc rgb '#d00000' title 'wrk --timeout 5s'
set terminal pngcairo size 760,522 noenhanced font 'sans,10' background rgb 'white'
set output 'dashboard-latency.png'
replot
unset output
