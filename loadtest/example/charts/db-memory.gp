# made by loadtest/compare; gnuplot db-memory.gp (from the results folder's charts/)
$m0 << EOD
0.812831 7.73047
8.12831 7.73438
81.2831 7.66797
812.831 7.59375
EOD
$m1 << EOD
0.851138 7.66406
8.51138 8.26562
85.1138 10.7422
851.138 32.4492
EOD
$m2 << EOD
0.891251 33.2461
8.91251 34.6094
89.1251 35.5977
891.251 33.8281
EOD
$m3 << EOD
0.933254 7.61719
9.33254 7.92969
93.3254 8.375
933.254 10.0195
EOD
$m4 << EOD
0.977237 7.93359
9.77237 8.08203
97.7237 8.14844
977.237 8.05859
EOD
$m5 << EOD
1.02329 7.78516
10.2329 8.21094
102.329 8.51172
1023.29 10.2539
EOD
$m6 << EOD
1.07152 7.76562
10.7152 8.07031
107.152 8.38281
1071.52 10.1445
EOD
$m7 << EOD
1.12202 30.9375
11.2202 31.2891
112.202 32.1562
1122.02 41.2734
EOD
$m8 << EOD
1.1749 35.1211
11.749 70.1641
117.49 549.387
1174.9 1100.86
EOD
$m9 << EOD
1.23027 15.6406
12.3027 17.9727
123.027 39.7773
1230.27 228.918
EOD
$val << EOD
812.831 7.59375 "7.6" 0x9467bd
851.138 151.515 "32.4" 0x1f77b4
891.251 275.712 "33.8" 0x2ca02c
933.254 25.1453 "10.0" 0xff7f0e
977.237 13.8184 "8.1" 0x8c564b
1023.29 83.2638 "10.3" 0xe377c2
1071.52 45.7569 "10.1" 0x17becf
1122.02 501.714 "41.3" 0x7f7f7f
1174.9 1661.33 "1101" 0xbcbd22
1230.27 912.97 "229" 0x393b79
EOD
set title "/db?delay=100 — server memory (RSS, median over the run)"
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
set output 'db-memory.svg'
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
set output 'db-memory.png'
replot
unset output
