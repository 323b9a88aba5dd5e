# made by loadtest/compare; gnuplot db-throughput.gp (from the results folder's charts/)
$m0 << EOD
1 9.87419 10
10 9.87384 10
100 9.87065 10
1000 9.84395 10
EOD
$e0 << EOD
100 9.87065 "50 err"
1000 9.84395 "50 err"
EOD
$m1 << EOD
1 9.87108 10
10 98.7702 100
100 986.421 1000
1000 9639.37 10000
EOD
$m2 << EOD
1 9.87466 10
10 78.9223 80
100 78.7887 80
1000 78.7191 80
EOD
$e2 << EOD
1000 78.7191 "400 err"
EOD
$m3 << EOD
1 9.8638 10
10 98.6757 100
100 977.726 1000
1000 9493.93 10000
EOD
set title "/db?delay=100 — throughput"
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
set output 'db-throughput.svg'
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
set output 'db-throughput.png'
replot
unset output
