# made by loadtest/compare; gnuplot hello-throughput.gp (from the results folder's charts/)
$m0 << EOD
1 9434.79 NaN
10 14487.3 NaN
100 14519.2 NaN
1000 15652.6 NaN
EOD
$m1 << EOD
1 19667.8 NaN
10 36213 NaN
100 35476.4 NaN
1000 23627.3 NaN
EOD
$m2 << EOD
1 6017.54 NaN
10 10224.8 NaN
100 14192.9 NaN
1000 13357 NaN
EOD
$m3 << EOD
1 21375.3 NaN
10 33073.2 NaN
100 39231.7 NaN
1000 37020.2 NaN
EOD
set title "/hello — throughput"
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
set yrange [1000:100000]

set terminal svg size 760,420 noenhanced font 'sans,11' background rgb 'white'
set output 'hello-throughput.svg'
plot $m0 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#9467bd' title 'iterative', \
     $m1 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#1f77b4' title 'threads', \
     $m2 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#2ca02c' title 'prefork', \
     $m3 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#ff7f0e' title 'event'
set terminal pngcairo size 760,420 noenhanced font 'sans,10' background rgb 'white'
set output 'hello-throughput.png'
replot
unset output
