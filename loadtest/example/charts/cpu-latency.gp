# made by loadtest/compare; gnuplot cpu-latency.gp (from the results folder's charts/)
$m0 << EOD
0.812831 35.081 52.004
8.12831 349.852 424.751
81.2831 3370.28 3432.14
812.831 2528.46 4954.03
EOD
$m1 << EOD
0.851138 36.708 37.463
8.51138 185.163 231.394
85.1138 1890.46 2111.98
851.138 NaN NaN
EOD
$m2 << EOD
0.891251 36.751 50.883
8.91251 175.221 283.101
89.1251 1797.61 1900.03
891.251 2551.41 4962.55
EOD
$m3 << EOD
0.933254 36.628 37.473
9.33254 360.873 514.258
93.3254 2275.45 4973.83
933.254 1863.77 4937.64
EOD
$m4 << EOD
0.977237 36.833 40.617
9.77237 178.133 267.842
97.7237 1851.65 1935.94
977.237 2503.16 4966.58
EOD
$m5 << EOD
1.02329 33.544 36.094
10.2329 33.272 1688.49
102.329 35.096 4927.68
1023.29 39.251 4913.58
EOD
$m6 << EOD
1.07152 36.032 43.403
10.7152 183.487 197.974
107.152 1786.32 1915.99
1071.52 2516.59 4950.62
EOD
$err << EOD
812.831 5000
851.138 5000
891.251 5000
93.3254 5000
933.254 5000
977.237 5000
102.329 5000
1023.29 5000
1071.52 5000
EOD
$errl << EOD
812.831 3082.98 "144 t/o" 0x9467bd
851.138 4830.25 "328 t/o" 0x1f77b4
891.251 1325.87 "277 t/o" 0x2ca02c
933.254 2077.3 "75 t/o" 0xff7f0e
977.237 3254.62 "269 t/o" 0x8c564b
1023.29 5099.18 "104 t/o" 0xe377c2
1071.52 7989.14 "269 t/o" 0x17becf
93.3254 3082.98 "27 t/o" 0xff7f0e
102.329 4830.25 "29 t/o" 0xe377c2
EOD
set title "/cpu?iterations=150000 — latency p50 and p99"
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
set yrange [10:10000]

set key below center horizontal maxcols 3 spacing 1.0 font ',9'
set terminal svg size 760,522 noenhanced font 'sans,11' background rgb 'white'
set output 'cpu-latency.svg'
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
set output 'cpu-latency.png'
replot
unset output
