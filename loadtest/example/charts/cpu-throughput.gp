# made by loadtest/compare; gnuplot cpu-throughput.gp (from the results folder's charts/)
$m0 << EOD
1 21.9332 27.9752
10 24.8899 27.9752
100 25.5212 27.9752
1000 24.3682 27.9752
EOD
$e0 << EOD
1000 24.3682 "126 err"
EOD
$m1 << EOD
1 26.092 27.9752
10 48.1531 55.7144
100 43.5046 48.2313
1000 8.11723 0
EOD
$e1 << EOD
1000 8.11723 "60 err"
EOD
$m2 << EOD
1 29.361 27.9752
10 47.9101 55.4332
100 39.8021 55.4457
1000 49.9307 55.6996
EOD
$e2 << EOD
1000 49.9307 "275 err"
EOD
$m3 << EOD
1 27.9557 27.9752
10 28.161 27.9752
100 27.9604 27.9752
1000 28.1345 27.9752
EOD
$e3 << EOD
100 27.9604 "31 err"
1000 28.1345 "187 err"
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
set yrange [1:100]

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
unset output
