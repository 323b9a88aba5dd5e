# made by loadtest/compare; gnuplot db-threads.gp (from the results folder's charts/)
$m0 << EOD
0.812831 1
8.12831 1
81.2831 1
812.831 1
EOD
$m1 << EOD
0.851138 2
8.51138 11
85.1138 101
851.138 1001
EOD
$m2 << EOD
0.891251 9
8.91251 9
89.1251 9
891.251 9
EOD
$m3 << EOD
0.933254 1
9.33254 1
93.3254 1
933.254 1
EOD
$m4 << EOD
0.977237 9
9.77237 9
97.7237 9
977.237 9
EOD
$m5 << EOD
1.02329 3
10.2329 3
102.329 3
1023.29 3
EOD
$m6 << EOD
1.07152 3
10.7152 3
107.152 3
1071.52 3
EOD
$m7 << EOD
1.12202 3
11.2202 3
112.202 3
1122.02 3
EOD
$m8 << EOD
1.1749 9
11.749 16
117.49 132
1174.9 257
EOD
$m9 << EOD
1.23027 133
12.3027 133
123.027 199
1230.27 1057
EOD
$val << EOD
812.831 1.34896 "1" 0x9467bd
851.138 1001 "1001" 0x1f77b4
891.251 26.9153 "9" 0x2ca02c
933.254 2.45471 "1" 0xff7f0e
977.237 48.9779 "9" 0x8c564b
1023.29 4.46684 "3" 0xe377c2
1071.52 8.12831 "3" 0x17becf
1122.02 14.7911 "3" 0x7f7f7f
1174.9 257 "257" 0xbcbd22
1230.27 1821.52 "1057" 0x393b79
EOD
set title "/db?delay=100 — server threads, all processes (median over the run)"
set xlabel "connections offered by wrk (log)"
set ylabel "threads (log)"
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
set output 'db-threads.svg'
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
set output 'db-threads.png'
replot
unset output
