# made by loadtest/compare; gnuplot dashboard-memory.gp (from the results folder's charts/)
$m0 << EOD
0.812831 7.63672
8.12831 7.62109
81.2831 7.62891
812.831 7.62891
EOD
$m1 << EOD
0.851138 7.69141
8.51138 8.01172
85.1138 10.6328
851.138 32.1719
EOD
$m2 << EOD
0.891251 32.5195
8.91251 33.1562
89.1251 33.1758
891.251 33.9883
EOD
$m3 << EOD
0.933254 7.67578
9.33254 7.97656
93.3254 8.38672
933.254 10.4688
EOD
$m4 << EOD
0.977237 7.96875
9.77237 7.96875
97.7237 8.05469
977.237 7.92578
EOD
$m5 << EOD
1.02329 7.86328
10.2329 8.11328
102.329 8.53906
1023.29 10.6406
EOD
$m6 << EOD
1.07152 7.65234
10.7152 8.02344
107.152 8.43359
1071.52 10.4258
EOD
$val << EOD
812.831 7.62891 "7.6" 0x9467bd
851.138 34.0771 "32.2" 0x1f77b4
891.251 45.9687 "34.0" 0x2ca02c
933.254 18.7267 "10.5" 0xff7f0e
977.237 10.2911 "7.9" 0x8c564b
1023.29 25.2617 "10.6" 0xe377c2
1071.52 13.8823 "10.4" 0x17becf
EOD
set title "/dashboard?delay=100&widgets=4 — server memory (RSS, median over the run)"
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
set yrange [1:100]

set terminal svg size 760,420 noenhanced font 'sans,11' background rgb 'white'
set output 'dashboard-memory.svg'
plot $m0 using 1:2 with linespoints lw 3.5 pt 7 ps 1.60 lc rgb '#9467bd' title 'iterative', \
     $m1 using 1:2 with linespoints lw 3.3 pt 5 ps 1.52 lc rgb '#1f77b4' title 'threads', \
     $m2 using 1:2 with linespoints lw 3.1 pt 9 ps 1.44 lc rgb '#2ca02c' title 'prefork', \
     $m3 using 1:2 with linespoints lw 2.8 pt 13 ps 1.37 lc rgb '#ff7f0e' title 'event', \
     $m4 using 1:2 with linespoints lw 2.6 pt 11 ps 1.29 lc rgb '#8c564b' title 'pool', \
     $m5 using 1:2 with linespoints lw 2.4 pt 15 ps 1.21 lc rgb '#e377c2' title 'reactors', \
     $m6 using 1:2 with linespoints lw 2.2 pt 3 ps 1.13 lc rgb '#17becf' title 'offload', \
     $val using 1:2:3:4 with labels left offset char 1,0 font ',9' tc rgb variable notitle
set terminal pngcairo size 760,420 noenhanced font 'sans,10' background rgb 'white'
set output 'dashboard-memory.png'
replot
unset output
