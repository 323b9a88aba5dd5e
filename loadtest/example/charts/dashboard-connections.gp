# made by loadtest/compare; gnuplot dashboard-connections.gp (from the results folder's charts/)
$m0 << EOD
0.812831 1 0.5
8.12831 1 9
81.2831 1 100
812.831 1 1000
EOD
$m1 << EOD
0.851138 1 0.5
8.51138 10 0.5
85.1138 100 0.5
851.138 1000 0.5
EOD
$m2 << EOD
0.891251 1 0.5
8.91251 8 2
89.1251 8 92
891.251 8 993
EOD
$m3 << EOD
0.933254 1 0.5
9.33254 10 0.5
93.3254 100 0.5
933.254 1000 0.5
EOD
$m4 << EOD
0.977237 1 0.5
9.77237 8 2
97.7237 8 92
977.237 8 993
EOD
$m5 << EOD
1.02329 1 0.5
10.2329 10 0.5
102.329 100 0.5
1023.29 1000 0.5
EOD
$m6 << EOD
1.07152 1 0.5
10.7152 10 0.5
107.152 100 0.5
1071.52 1000 0.5
EOD
set title "/dashboard?delay=100&widgets=4 — connections: offered, held by the server, queued"
set xlabel "connections offered by wrk (log)"
set ylabel "connections (median, log; 0 drawn at 0.5)"
set logscale xy
set xrange [0.625:1600]
set grid xtics ytics lc rgb '#dddddd'
set key outside right top spacing 1.1 font ',10'
set border lc rgb '#555555'
set xtics ('1' 1, '10' 10, '100' 100, '1000' 1000)
set mxtics default
set ytics format '%g'
set yrange [0.5:10000]

set key below center horizontal maxcols 3 spacing 1.0 font ',9'
set terminal svg size 760,505 noenhanced font 'sans,11' background rgb 'white'
set output 'dashboard-connections.svg'
plot x with lines lw 1 dt 3 lc rgb '#888888' title 'offered (wrk -c)', \
     $m0 using 1:2 with linespoints lw 3.5 pt 7 ps 1.60 lc rgb '#9467bd' title 'iterative held', \
     $m0 using 1:3 with linespoints dt 3 lw 1.5 pt 6 ps 1.60 lc rgb '#9467bd' title 'iterative queued', \
     $m1 using 1:2 with linespoints lw 3.3 pt 5 ps 1.52 lc rgb '#1f77b4' title 'threads held', \
     $m1 using 1:3 with linespoints dt 3 lw 1.5 pt 4 ps 1.52 lc rgb '#1f77b4' title 'threads queued', \
     $m2 using 1:2 with linespoints lw 3.1 pt 9 ps 1.44 lc rgb '#2ca02c' title 'prefork held', \
     $m2 using 1:3 with linespoints dt 3 lw 1.5 pt 8 ps 1.44 lc rgb '#2ca02c' title 'prefork queued', \
     $m3 using 1:2 with linespoints lw 2.8 pt 13 ps 1.37 lc rgb '#ff7f0e' title 'event held', \
     $m3 using 1:3 with linespoints dt 3 lw 1.5 pt 12 ps 1.37 lc rgb '#ff7f0e' title 'event queued', \
     $m4 using 1:2 with linespoints lw 2.6 pt 11 ps 1.29 lc rgb '#8c564b' title 'pool held', \
     $m4 using 1:3 with linespoints dt 3 lw 1.5 pt 10 ps 1.29 lc rgb '#8c564b' title 'pool queued', \
     $m5 using 1:2 with linespoints lw 2.4 pt 15 ps 1.21 lc rgb '#e377c2' title 'reactors held', \
     $m5 using 1:3 with linespoints dt 3 lw 1.5 pt 14 ps 1.21 lc rgb '#e377c2' title 'reactors queued', \
     $m6 using 1:2 with linespoints lw 2.2 pt 3 ps 1.13 lc rgb '#17becf' title 'offload held', \
     $m6 using 1:3 with linespoints dt 3 lw 1.5 pt 3 ps 1.13 lc rgb '#17becf' title 'offload queued'
set terminal pngcairo size 760,505 noenhanced font 'sans,10' background rgb 'white'
set output 'dashboard-connections.png'
replot
unset output
