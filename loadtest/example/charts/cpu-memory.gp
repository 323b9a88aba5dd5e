# made by loadtest/compare; gnuplot cpu-memory.gp (from the results folder's charts/)
$m0 << EOD
0.812831 9.9375
8.12831 9.93359
81.2831 9.84766
812.831 9.81641
EOD
$m1 << EOD
0.851138 9.86328
8.51138 10.2188
85.1138 12.4609
851.138 25.1992
EOD
$m2 << EOD
0.891251 54.7969
8.91251 55.3281
89.1251 56.0703
891.251 54.3945
EOD
$m3 << EOD
0.933254 9.92188
9.33254 9.89844
93.3254 9.88672
933.254 9.94531
EOD
$m4 << EOD
0.977237 10.168
9.77237 10.2148
97.7237 10.2344
977.237 10.2266
EOD
$m5 << EOD
1.02329 10.0195
10.2329 10.0977
102.329 10.2266
1023.29 10.1953
EOD
$m6 << EOD
1.07152 9.84375
10.7152 9.95703
107.152 10.2461
1071.52 11.375
EOD
$val << EOD
812.831 9.81641 "9.8" 0x9467bd
851.138 43.8483 "25.2" 0x1f77b4
891.251 59.1497 "54.4" 0x2ca02c
933.254 13.242 "9.9" 0xff7f0e
977.237 24.0964 "10.2" 0x8c564b
1023.29 17.8629 "10.2" 0xe377c2
1071.52 32.5052 "11.4" 0x17becf
EOD
set title "/cpu?iterations=150000 — server memory (RSS, median over the run)"
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
set output 'cpu-memory.svg'
plot $m0 using 1:2 with linespoints lw 3.5 pt 7 ps 1.60 lc rgb '#9467bd' title 'iterative', \
     $m1 using 1:2 with linespoints lw 3.3 pt 5 ps 1.52 lc rgb '#1f77b4' title 'threads', \
     $m2 using 1:2 with linespoints lw 3.1 pt 9 ps 1.44 lc rgb '#2ca02c' title 'prefork', \
     $m3 using 1:2 with linespoints lw 2.8 pt 13 ps 1.37 lc rgb '#ff7f0e' title 'event', \
     $m4 using 1:2 with linespoints lw 2.6 pt 11 ps 1.29 lc rgb '#8c564b' title 'pool', \
     $m5 using 1:2 with linespoints lw 2.4 pt 15 ps 1.21 lc rgb '#e377c2' title 'reactors', \
     $m6 using 1:2 with linespoints lw 2.2 pt 3 ps 1.13 lc rgb '#17becf' title 'offload', \
     $val using 1:2:3:4 with labels left offset char 1,0 font ',9' tc rgb variable notitle
set terminal pngcairo size 760,420 noenhanced font 'sans,10' background rgb 'white'
set output 'cpu-memory.png'
replot
unset output
