# made by loadtest/compare; gnuplot cpu-latency.gp (from the results folder's charts/)
$m0 << EOD
1 36.75 63.878
10 618.655 646.255
100 3173.37 4970.5
1000 2502.18 4953.57
EOD
$e0 << EOD
100 5000 "38 t/o"
1000 5000 "143 t/o"
EOD
$m1 << EOD
1 58.148 69.032
10 265.546 325.6
100 2809.67 3242.25
1000 4990 4990
EOD
$e1 << EOD
1000 5000 "187 t/o"
EOD
$m2 << EOD
1 35.466 70.006
10 279.814 429.914
100 2801.85 3082.48
1000 2507.21 4929.38
EOD
$e2 << EOD
1000 5000 "188 t/o"
EOD
$m3 << EOD
1 37.051 47.62
10 357.205 498.953
100 2212.47 4994.72
1000 2508.17 4943.24
EOD
$e3 << EOD
100 5000 "42 t/o"
1000 5000 "143 t/o"
EOD
set title "/cpu?iterations=150000 — latency p50 and p99"
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
set yrange [10:10000]

set terminal svg size 760,420 noenhanced font 'sans,11' background rgb 'white'
set output 'cpu-latency.svg'
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
     $e1 using 1:2 with points pt 6 ps 2 lw 2 lc rgb '#d00000' notitle, \
     $e1 using 1:2:3 with labels offset char 0,-1.1 font ',9' tc rgb '#1f77b4' notitle, \
     $e2 using 1:2 with points pt 6 ps 2 lw 2 lc rgb '#d00000' notitle, \
     $e2 using 1:2:3 with labels offset char 0,-1.1 font ',9' tc rgb '#2ca02c' notitle, \
     $e3 using 1:2 with points pt 6 ps 2 lw 2 lc rgb '#d00000' notitle, \
     $e3 using 1:2:3 with labels offset char 0,-1.1 font ',9' tc rgb '#ff7f0e' notitle, \
     5000 with lines dt 3 lw 1 lc rgb '#d00000' title 'wrk --timeout 5s'
set terminal pngcairo size 760,420 noenhanced font 'sans,10' background rgb 'white'
set output 'cpu-latency.png'
replot
unset output
