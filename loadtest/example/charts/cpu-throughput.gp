# made by loadtest/compare; gnuplot cpu-throughput.gp (from the results folder's charts/)
$m0 << EOD
1 21.5727 26.9898
10 17.2539 26.9898
100 21.5247 26.9898
1000 28.5401 26.9898
EOD
$e0 << EOD
100 21.5247 "38 err"
1000 28.5401 "143 err"
EOD
$m1 << EOD
1 17.0631 26.9898
10 41.327 53.7748
100 29.6859 49.4765
1000 17.9471 0
EOD
$e1 << EOD
1000 17.9471 "187 err"
EOD
$m2 << EOD
1 24.1721 26.9898
10 35.1726 53.2557
100 35.2073 53.8
1000 35.5614 53.3919
EOD
$e2 << EOD
1000 35.5614 "188 err"
EOD
$m3 << EOD
1 26.7937 26.9898
10 27.7917 26.9898
100 26.5364 26.9898
1000 28.4162 26.9898
EOD
$e3 << EOD
100 26.5364 "42 err"
1000 28.4162 "258 err"
EOD
set title "/cpu?iterations=150000 — throughput"
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
set yrange [10:100]

set terminal svg size 760,420 noenhanced font 'sans,11' background rgb 'white'
set output 'cpu-throughput.svg'
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
     $e1 using 1:2 with points pt 6 ps 2 lw 2 lc rgb '#d00000' notitle, \
     $e1 using 1:2:3 with labels offset char 0,1.1 font ',9' tc rgb '#1f77b4' notitle, \
     $e2 using 1:2 with points pt 6 ps 2 lw 2 lc rgb '#d00000' notitle, \
     $e2 using 1:2:3 with labels offset char 0,1.1 font ',9' tc rgb '#2ca02c' notitle, \
     $e3 using 1:2 with points pt 6 ps 2 lw 2 lc rgb '#d00000' notitle, \
     $e3 using 1:2:3 with labels offset char 0,1.1 font ',9' tc rgb '#ff7f0e' notitle
set terminal pngcairo size 760,420 noenhanced font 'sans,10' background rgb 'white'
set output 'cpu-throughput.png'
replot
unset output
