# made by loadtest/compare; gnuplot db-latency.gp (from the results folder's charts/)
$m0 << EOD
1 100.522 100.901
10 1004.05 1007.68
100 2516.64 4928.36
1000 2513.34 4929.18
EOD
$e0 << EOD
100 5000 "50 t/o"
1000 5000 "50 t/o"
EOD
$m1 << EOD
1 100.393 104.256
10 100.581 104.233
100 100.6 102.788
1000 100.659 187.403
EOD
$m2 << EOD
1 100.592 101.527
10 101.079 200.716
100 1210.36 1308.92
1000 2511.56 4924.5
EOD
$e2 << EOD
1000 5000 "400 t/o"
EOD
$m3 << EOD
1 100.564 100.822
10 100.86 105.137
100 101.519 104.568
1000 102.607 118.625
EOD
set title "/db?delay=100 — latency p50 and p99"
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
set output 'db-latency.svg'
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
set output 'db-latency.png'
replot
unset output
