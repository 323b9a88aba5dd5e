# made by loadtest/compare; gnuplot dashboard-latency.gp (from the results folder's charts/)
$m0 << EOD
1 400.965 401.632
10 4010.12 4010.64
100 2806.9 4811.52
1000 2807.99 4813.61
EOD
$e0 << EOD
100 5000 "12 t/o"
1000 5000 "12 t/o"
EOD
$m1 << EOD
1 401.128 401.776
10 400.851 421.828
100 401.059 431.822
1000 401.28 441.099
EOD
$m2 << EOD
1 401 401.388
10 401.861 805.62
100 4012.1 4817.9
1000 2806.95 4837.64
EOD
$e2 << EOD
100 5000 "48 t/o"
1000 5000 "97 t/o"
EOD
$m3 << EOD
1 100.505 108.868
10 100.806 104.32
100 101.885 104.727
1000 102.86 116.441
EOD
set title "/dashboard?delay=100&widgets=4 — latency p50 and p99"
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
set yrange [100:10000]

set terminal svg size 760,420 noenhanced font 'sans,11' background rgb 'white'
set output 'dashboard-latency.svg'
plot $m0 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#9467bd' title 'iterative p50', \
     $m0 using 1:3 with linespoints dt 2 lw 1.5 pt 6 ps 0.8 lc rgb '#9467bd' title 'iterative p99', \
     $m1 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#1f77b4' title 'threads p50', \
     $m1 using 1:3 with linespoints dt 2 lw 1.5 pt 6 ps 0.8 lc rgb '#1f77b4' title 'threads p99', \
     $m2 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#2ca02c' title 'prefork p50', \
     $m2 using 1:3 with linespoints dt 2 lw 1.5 pt 6 ps 0.8 lc rgb '#2ca02c' title 'prefork p99', \
     $m3 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#ff7f0e' title 'event p50', \
     $m3 using 1:3 with linespoints dt 2 lw 1.5 pt 6 ps 0.8 lc rgb '#ff7f0e' title 'event p99', \
     $e0 using 1:2 with points pt 6 ps 2 lw 2 lc rgb '#d00000' title 'timeouts (not in p50/p99)', \
     $e0 using 1:2:3 with labels offset char 0,-1.1 font ',9' tc rgb '#9467bd' notitle, \
     $e2 using 1:2 with points pt 6 ps 2 lw 2 lc rgb '#d00000' notitle, \
     $e2 using 1:2:3 with labels offset char 0,-1.1 font ',9' tc rgb '#2ca02c' notitle, \
     5000 with lines dt 3 lw 1 lc rgb '#d00000' title 'wrk --timeout 5s'
set terminal pngcairo size 760,420 noenhanced font 'sans,10' background rgb 'white'
set output 'dashboard-latency.png'
replot
unset output
