# made by loadtest/compare; gnuplot cpu-latency.gp (from the results folder's charts/)
$m0 << EOD
1 41.672 82.467
10 382.401 690.312
100 3525.5 4432.61
1000 2527.9 4959.62
EOD
$e0 << EOD
1000 5000 "126 t/o"
EOD
$m1 << EOD
1 35.647 140.703
10 181.74 380.57
100 1864.22 3587.73
1000 237.776 4933.83
EOD
$e1 << EOD
1000 5000 "60 t/o"
EOD
$m2 << EOD
1 33.387 39.315
10 185.185 445.214
100 2507.15 2734.63
1000 2767.77 4928.88
EOD
$e2 << EOD
1000 5000 "275 t/o"
EOD
$m3 << EOD
1 35.746 37.255
10 351.043 482.095
100 2362.73 4923.23
1000 2597.74 4474.51
EOD
$e3 << EOD
100 5000 "31 t/o"
1000 5000 "138 t/o"
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
unset output
