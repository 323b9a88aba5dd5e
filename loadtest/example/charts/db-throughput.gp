# made by loadtest/compare; gnuplot db-throughput.gp (from the results folder's charts/)
$m0 << EOD
0.812831 9.87804 10
8.12831 9.88133 10
81.2831 9.87752 10
812.831 9.84413 10
EOD
$m1 << EOD
0.851138 9.87409 10
8.51138 98.826 100
85.1138 988.112 1000
851.138 9849.35 10000
EOD
$m2 << EOD
0.891251 9.87313 10
8.91251 78.9636 80
89.1251 79.0118 80
891.251 78.7851 80
EOD
$m3 << EOD
0.933254 9.88415 10
9.33254 98.7822 100
93.3254 978.578 1000
933.254 9752.63 10000
EOD
$m4 << EOD
0.977237 9.88773 10
9.77237 79.0168 80
97.7237 79.0733 80
977.237 78.5903 80
EOD
$m5 << EOD
1.02329 9.87151 10
10.2329 98.789 100
102.329 988.138 1000
1023.29 9751.58 10000
EOD
$m6 << EOD
1.07152 9.86657 10
10.7152 98.7616 100
107.152 978.956 1000
1071.52 9676.09 10000
EOD
$m7 << EOD
1.12202 9.87851 NaN
11.2202 98.8297 NaN
112.202 988.134 NaN
1122.02 9763.89 NaN
EOD
$m8 << EOD
1.1749 9.88118 NaN
11.749 98.847 NaN
117.49 736.607 NaN
1174.9 1182.67 NaN
EOD
$m9 << EOD
1.23027 9.87911 NaN
12.3027 98.78 NaN
123.027 988.482 NaN
1230.27 8293.1 NaN
EOD
$err << EOD
81.2831 9.87752
812.831 9.84413
891.251 78.7851
977.237 78.5903
1174.9 1182.67
EOD
$errl << EOD
81.2831 17.565 "50 err" 0x9467bd
812.831 17.5056 "50 err" 0x9467bd
891.251 295.372 "400 err" 0x2ca02c
977.237 139.756 "400 err" 0x8c564b
1174.9 2103.11 "121 err" 0xbcbd22
EOD
set title "/db?delay=100 — throughput"
set xlabel "connections offered by wrk (log)"
set ylabel "requests/s (log)"
set logscale xy
set xrange [0.625:1600]
set grid xtics ytics lc rgb '#dddddd'
set key outside right top spacing 1.1 font ',10'
set border lc rgb '#555555'
set xtics ('1' 1, '10' 10, '100' 100, '1000' 1000)
set mxtics default
set ytics format '%g'
set yrange [1:100000]

set key below center horizontal maxcols 3 spacing 1.0 font ',9'
set terminal svg size 760,522 noenhanced font 'sans,11' background rgb 'white'
set output 'db-throughput.svg'
plot $m0 using 1:2 with linespoints lw 3.5 pt 7 ps 1.60 lc rgb '#9467bd' title 'iterative', \
     $m0 using 1:3 with lines dt 2 lw 1.5 lc rgb '#9467bd' title 'iterative predicted', \
     $m1 using 1:2 with linespoints lw 3.3 pt 5 ps 1.52 lc rgb '#1f77b4' title 'threads', \
     $m1 using 1:3 with lines dt 2 lw 1.5 lc rgb '#1f77b4' title 'threads predicted', \
     $m2 using 1:2 with linespoints lw 3.1 pt 9 ps 1.44 lc rgb '#2ca02c' title 'prefork', \
     $m2 using 1:3 with lines dt 2 lw 1.5 lc rgb '#2ca02c' title 'prefork predicted', \
     $m3 using 1:2 with linespoints lw 2.8 pt 13 ps 1.37 lc rgb '#ff7f0e' title 'event', \
     $m3 using 1:3 with lines dt 2 lw 1.5 lc rgb '#ff7f0e' title 'event predicted', \
     $m4 using 1:2 with linespoints lw 2.6 pt 11 ps 1.29 lc rgb '#8c564b' title 'pool', \
     $m4 using 1:3 with lines dt 2 lw 1.5 lc rgb '#8c564b' title 'pool predicted', \
     $m5 using 1:2 with linespoints lw 2.4 pt 15 ps 1.21 lc rgb '#e377c2' title 'reactors', \
     $m5 using 1:3 with lines dt 2 lw 1.5 lc rgb '#e377c2' title 'reactors predicted', \
     $m6 using 1:2 with linespoints lw 2.2 pt 3 ps 1.13 lc rgb '#17becf' title 'offload', \
     $m6 using 1:3 with lines dt 2 lw 1.5 lc rgb '#17becf' title 'offload predicted', \
     $m7 using 1:2 with linespoints lw 1.9 pt 6 ps 1.06 lc rgb '#7f7f7f' title 'nginx', \
     $m8 using 1:2 with linespoints lw 1.7 pt 4 ps 0.98 lc rgb '#bcbd22' title 'apache-prefork', \
     $m9 using 1:2 with linespoints lw 1.5 pt 8 ps 0.90 lc rgb '#393b79' title 'apache-worker', \
     $err using 1:2 with points pt 6 ps 2 lw 2 lc rgb '#d00000' title 'run with errors', \
     $errl using 1:2:3:4 with labels font ',9' tc rgb variable notitle
set terminal pngcairo size 760,522 noenhanced font 'sans,10' background rgb 'white'
set output 'db-throughput.png'
replot
unset output
