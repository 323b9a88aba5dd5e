# made by loadtest/compare; gnuplot hello-latency.gp (from the results folder's charts/)
$m0 << EOD
1 0.04 1.851
10 0.538 2.836
100 5.325 11.355
1000 53.462 87.785
EOD
$m1 << EOD
1 0.045 0.27
10 0.165 1.248
100 1.35 5.001
1000 19.635 147.09
EOD
$m2 << EOD
1 0.045 0.233
10 0.338 3.685
100 3.541 9.558
1000 37.621 86.125
EOD
$m3 << EOD
1 0.04 0.15
10 0.274 2.519
100 2.483 5.614
1000 27.441 34.897
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
set terminal pngcairo size 760,420 noenhanced font 'sans,10' background rgb 'white'
set output 'hello-latency.png'
replot
unset output
