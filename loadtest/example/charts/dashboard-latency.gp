# made by loadtest/compare; gnuplot dashboard-latency.gp (from the results folder's charts/)
$m0 << EOD
1 400.679 423.205
10 4006.3 4007.32
100 2813.39 4816.82
1000 2804.66 4804.34
EOD
$e0 << EOD
100 5000 "13 t/o"
1000 5000 "13 t/o"
EOD
$m1 << EOD
1 400.619 436.152
10 400.622 451.215
100 400.554 403.05
1000 400.577 416.881
EOD
$m2 << EOD
1 400.597 401.042
10 401.251 801.354
100 4005.82 4807.67
1000 2803.99 4809.46
EOD
$e2 << EOD
100 5000 "52 t/o"
1000 5000 "98 t/o"
EOD
$m3 << EOD
1 100.294 102.05
10 100.509 100.863
100 101.725 102.979
1000 101.048 111.525
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
unset output
