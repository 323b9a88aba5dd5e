# made by loadtest/compare; gnuplot hello-latency.gp (from the results folder's charts/)
$m0 << EOD
1 0.015 1.192
10 0.221 29.221
100 1.582 6.6
1000 19.478 46.916
EOD
$m1 << EOD
1 0.06 0.306
10 0.057 0.359
100 0.48 3.499
1000 5.16 22.551
EOD
$m2 << EOD
1 0.018 0.421
10 0.138 2.928
100 1.396 14.795
1000 13.597 124.975
EOD
$m3 << EOD
1 0.072 0.38
10 0.052 0.743
100 0.613 4.522
1000 6.905 13.406
EOD
set title "/hello — latency p50 and p99"
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
set yrange [0.01:10000]

set terminal svg size 760,420 noenhanced font 'sans,11' background rgb 'white'
set output 'hello-latency.svg'
plot $m0 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#9467bd' title 'iterative p50', \
     $m0 using 1:3 with linespoints dt 2 lw 1.5 pt 6 ps 0.8 lc rgb '#9467bd' title 'iterative p99', \
     $m1 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#1f77b4' title 'threads p50', \
     $m1 using 1:3 with linespoints dt 2 lw 1.5 pt 6 ps 0.8 lc rgb '#1f77b4' title 'threads p99', \
     $m2 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#2ca02c' title 'prefork p50', \
     $m2 using 1:3 with linespoints dt 2 lw 1.5 pt 6 ps 0.8 lc rgb '#2ca02c' title 'prefork p99', \
     $m3 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#ff7f0e' title 'event p50', \
     $m3 using 1:3 with linespoints dt 2 lw 1.5 pt 6 ps 0.8 lc rgb '#ff7f0e' title 'event p99', \
     5000 with lines dt 3 lw 1 lc rgb '#d00000' title 'wrk --timeout 5s'
unset output
