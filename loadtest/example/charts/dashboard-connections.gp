# made by loadtest/compare; gnuplot dashboard-connections.gp (from the results folder's charts/)
$m0 << EOD
1 1 0.5
10 1 9
100 1 100
1000 1 1000
EOD
$m1 << EOD
1 1 0.5
10 10 0.5
100 100 0.5
1000 1000 0.5
EOD
$m2 << EOD
1 1 0.5
10 8 2
100 8 92
1000 8 993
EOD
$m3 << EOD
1 1 0.5
10 10 0.5
100 100 0.5
1000 1000 0.5
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

set terminal svg size 760,420 noenhanced font 'sans,11' background rgb 'white'
set output 'dashboard-connections.svg'
plot x with lines lw 1 dt 3 lc rgb '#888888' title 'offered (wrk -c)', \
     $m0 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#9467bd' title 'iterative held', \
     $m0 using 1:3 with linespoints dt 3 lw 1.5 pt 4 ps 0.8 lc rgb '#9467bd' title 'iterative queued', \
     $m1 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#1f77b4' title 'threads held', \
     $m1 using 1:3 with linespoints dt 3 lw 1.5 pt 4 ps 0.8 lc rgb '#1f77b4' title 'threads queued', \
     $m2 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#2ca02c' title 'prefork held', \
     $m2 using 1:3 with linespoints dt 3 lw 1.5 pt 4 ps 0.8 lc rgb '#2ca02c' title 'prefork queued', \
     $m3 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#ff7f0e' title 'event held', \
     $m3 using 1:3 with linespoints dt 3 lw 1.5 pt 4 ps 0.8 lc rgb '#ff7f0e' title 'event queued'
set terminal pngcairo size 760,420 noenhanced font 'sans,10' background rgb 'white'
set output 'dashboard-connections.png'
replot
unset output
