# made by loadtest/compare; gnuplot dashboard-throughput.gp (from the results folder's charts/)
$m0 << EOD
1 2.39349 2.5
10 2.3938 2.5
100 2.39344 2.5
1000 2.37977 2.5
EOD
$e0 << EOD
100 2.39344 "12 err"
1000 2.37977 "12 err"
EOD
$m1 << EOD
1 2.39353 2.5
10 23.9146 25
100 238.759 250
1000 2381.42 2500
EOD
$m2 << EOD
1 2.39252 2.5
10 19.339 20
100 19.2303 20
1000 19.1553 20
EOD
$e2 << EOD
100 19.2303 "48 err"
1000 19.1553 "97 err"
EOD
$m3 << EOD
1 9.86752 10
10 98.8165 100
100 972.661 1000
1000 9509.6 10000
EOD
set title "/dashboard?delay=100&widgets=4 — throughput"
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

set terminal svg size 760,420 noenhanced font 'sans,11' background rgb 'white'
set output 'dashboard-throughput.svg'
plot $m0 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#9467bd' title 'iterative', \
     $m0 using 1:3 with lines dt 2 lw 1.5 lc rgb '#9467bd' title 'iterative predicted', \
     $m1 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#1f77b4' title 'threads', \
     $m1 using 1:3 with lines dt 2 lw 1.5 lc rgb '#1f77b4' title 'threads predicted', \
     $m2 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#2ca02c' title 'prefork', \
     $m2 using 1:3 with lines dt 2 lw 1.5 lc rgb '#2ca02c' title 'prefork predicted', \
     $m3 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#ff7f0e' title 'event', \
     $m3 using 1:3 with lines dt 2 lw 1.5 lc rgb '#ff7f0e' title 'event predicted', \
     $e0 using 1:2 with points pt 6 ps 2 lw 2 lc rgb '#d00000' title 'run with errors', \
     $e0 using 1:2:3 with labels offset char 0,1.1 font ',9' tc rgb '#9467bd' notitle, \
     $e2 using 1:2 with points pt 6 ps 2 lw 2 lc rgb '#d00000' notitle, \
     $e2 using 1:2:3 with labels offset char 0,1.1 font ',9' tc rgb '#2ca02c' notitle
set terminal pngcairo size 760,420 noenhanced font 'sans,10' background rgb 'white'
set output 'dashboard-throughput.png'
replot
unset output
