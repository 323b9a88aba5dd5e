# made by loadtest/compare; gnuplot hello-throughput.gp (from the results folder's charts/)
$m0 << EOD
1 24127.9 NaN
10 32722.3 NaN
100 44149.9 NaN
1000 37272.4 NaN
EOD
$m1 << EOD
1 21287.6 NaN
10 106411 NaN
100 105101 NaN
1000 85319.5 NaN
EOD
$m2 << EOD
1 14034.6 NaN
10 27665 NaN
100 34531.8 NaN
1000 33130.3 NaN
EOD
$m3 << EOD
1 13612.6 NaN
10 121360 NaN
100 147493 NaN
1000 137342 NaN
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
set yrange [10000:1e+06]

set terminal svg size 760,420 noenhanced font 'sans,11' background rgb 'white'
set output 'hello-throughput.svg'
plot $m0 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#9467bd' title 'iterative', \
     $m1 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#1f77b4' title 'threads', \
     $m2 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#2ca02c' title 'prefork', \
     $m3 using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#ff7f0e' title 'event'
unset output
