# made by loadtest/compare; gnuplot hello-memory.gp (from the results folder's charts/)
$m0 << EOD
0.812831 8.08203
8.12831 8.19922
81.2831 8.06641
812.831 8.11719
EOD
$m1 << EOD
0.851138 8.19531
8.51138 8.3125
85.1138 10.1992
851.138 27.3594
EOD
$m2 << EOD
0.891251 36.6289
8.91251 36.4414
89.1251 36.4258
891.251 36.2188
EOD
$m3 << EOD
0.933254 8.10938
9.33254 8.17578
93.3254 8.25781
933.254 8.64062
EOD
$m4 << EOD
0.977237 8.35156
9.77237 8.37891
97.7237 8.33984
977.237 8.35547
EOD
$m5 << EOD
1.02329 8.25
10.2329 8.34375
102.329 8.38672
1023.29 8.81641
EOD
$m6 << EOD
1.07152 8.16016
10.7152 8.22266
107.152 8.21094
1071.52 8.61328
EOD
$m7 << EOD
1.12202 30.9336
11.2202 31.1133
112.202 31.0938
1122.02 31.7383
EOD
$m8 << EOD
1.1749 34.7461
11.749 63.1016
117.49 514.684
1174.9 1028.27
EOD
$m9 << EOD
1.23027 14.8164
12.3027 15.9766
123.027 26.1641
1230.27 137.562
EOD
$val << EOD
812.831 8.11719 "8.1" 0x9467bd
851.138 161.959 "27.4" 0x1f77b4
891.251 536.297 "36.2" 0x2ca02c
933.254 48.9109 "8.6" 0xff7f0e
977.237 14.7709 "8.4" 0x8c564b
1023.29 89.0032 "8.8" 0xe377c2
1071.52 26.8785 "8.6" 0x17becf
1122.02 294.717 "31.7" 0x7f7f7f
1174.9 1775.85 "1028" 0xbcbd22
1230.27 975.901 "138" 0x393b79
EOD
set title "/hello — server memory (RSS, median over the run)"
set xlabel "connections offered by wrk (log)"
set ylabel "MiB (log)"
set logscale xy
set xrange [0.625:2880]
set grid xtics ytics lc rgb '#dddddd'
set key outside right top spacing 1.1 font ',10'
set border lc rgb '#555555'
set xtics ('1' 1, '10' 10, '100' 100, '1000' 1000)
set mxtics default
set ytics format '%g'
set yrange [1:10000]

set terminal svg size 760,420 noenhanced font 'sans,11' background rgb 'white'
set output 'hello-memory.svg'
plot $m0 using 1:2 with linespoints lw 3.5 pt 7 ps 1.60 lc rgb '#9467bd' title 'iterative', \
     $m1 using 1:2 with linespoints lw 3.3 pt 5 ps 1.52 lc rgb '#1f77b4' title 'threads', \
     $m2 using 1:2 with linespoints lw 3.1 pt 9 ps 1.44 lc rgb '#2ca02c' title 'prefork', \
     $m3 using 1:2 with linespoints lw 2.8 pt 13 ps 1.37 lc rgb '#ff7f0e' title 'event', \
     $m4 using 1:2 with linespoints lw 2.6 pt 11 ps 1.29 lc rgb '#8c564b' title 'pool', \
     $m5 using 1:2 with linespoints lw 2.4 pt 15 ps 1.21 lc rgb '#e377c2' title 'reactors', \
     $m6 using 1:2 with linespoints lw 2.2 pt 3 ps 1.13 lc rgb '#17becf' title 'offload', \
     $m7 using 1:2 with linespoints lw 1.9 pt 6 ps 1.06 lc rgb '#7f7f7f' title 'nginx', \
     $m8 using 1:2 with linespoints lw 1.7 pt 4 ps 0.98 lc rgb '#bcbd22' title 'apache-prefork', \
     $m9 using 1:2 with linespoints lw 1.5 pt 8 ps 0.90 lc rgb '#393b79' title 'apache-worker', \
     $val using 1:2:3:4 with labels left offset char 1,0 font ',9' tc rgb variable notitle
set terminal pngcairo size 760,420 noenhanced font 'sans,10' background rgb 'white'
set output 'hello-memory.png'
replot
unset output
