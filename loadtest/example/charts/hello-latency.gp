# made by loadtest/compare; gnuplot hello-latency.gp (from the results folder's charts/)
$m0 << EOD
0.812831 0.066 0.165
8.12831 0.176 0.609
81.2831 1.517 3.812
812.831 17.654 30.797
EOD
$m1 << EOD
0.851138 0.082 0.137
8.51138 0.05 0.133
85.1138 0.528 1.78
851.138 6.74 15.11
EOD
$m2 << EOD
0.891251 0.069 0.155
8.91251 0.142 0.54
89.1251 0.889 3.353
891.251 7.34 28.512
EOD
$m3 << EOD
0.933254 0.081 0.138
9.33254 0.022 0.941
93.3254 0.276 6.272
933.254 7.625 15.566
EOD
$m4 << EOD
0.977237 0.067 0.143
9.77237 0.128 0.448
97.7237 0.882 3.18
977.237 7.197 27.333
EOD
$m5 << EOD
1.02329 0.08 0.148
10.2329 0.037 0.724
102.329 0.113 7.955
1023.29 5.413 11.136
EOD
$m6 << EOD
1.07152 0.075 0.13
10.7152 0.023 0.881
107.152 0.236 7.731
1071.52 6.446 13.062
EOD
$m7 << EOD
1.12202 0.083 0.145
11.2202 0.036 0.115
112.202 0.099 6.664
1122.02 4.784 11.515
EOD
$m8 << EOD
1.1749 0.088 0.173
11.749 0.137 0.444
117.49 1.625 3353.85
1174.9 1.245 1920.16
EOD
$m9 << EOD
1.23027 0.09 0.164
12.3027 0.15 1.243
123.027 0.948 33.196
1230.27 14.416 33.843
EOD
$err << EOD
1174.9 5000
EOD
$errl << EOD
1174.9 1900.95 "128 t/o" 0xbcbd22
EOD
set title "/hello — latency p50 and p99"
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
set yrange [0.01:10000]

set key below center horizontal maxcols 3 spacing 1.0 font ',9'
set terminal svg size 760,556 noenhanced font 'sans,11' background rgb 'white'
set output 'hello-latency.svg'
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
set output 'hello-latency.png'
replot
unset output
