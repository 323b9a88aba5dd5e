# made by loadtest/compare; gnuplot db-pools.gp (from the results folder's charts/)
set terminal svg size 1160,520 noenhanced font 'sans,10' background rgb 'white'
set output 'db-pools.svg'
set multiplot layout 1,2 title "/db?delay=50 with a pool of P database connections (--db-pool P)"
$m0 << EOD
3.81997 79.1225
15.2799 79.0956
61.1195 79.0752
244.478 78.9901
EOD
$m1 << EOD
4 77.6962
16 313.275
64 314.592
256 308.508
EOD
$m2 << EOD
4.18851 79.0638
16.7541 314.783
67.0162 1252.07
268.065 4963.28
EOD
$ceil0 << EOD
2.5 80
320 80
EOD
$ceil1 << EOD
2.5 320
320 320
EOD
$diag << EOD
2.5 50
320 6400
EOD
$tl << EOD
345.6 80 "P/D = 80.0/s (P=4)" 0xd62728
345.6 320 "P/D = 320/s (P=16)" 0xff7f0e
345.6 6400 "C/D" 0x666666
EOD
set title "throughput: flat at P/D once the pool is full"
set xlabel "connections (wrk -c, log)"
set ylabel "requests/s (log)"
set logscale xy
set xrange [2.5:2048]
set grid xtics ytics lc rgb '#dddddd'
set key outside right top spacing 1.1 font ',10'
set border lc rgb '#555555'
set xtics ('4' 4, '16' 16, '64' 64, '256' 256)
set mxtics default
set ytics format '%g'
set yrange [10:10000]
set bmargin 8
set key at graph 0.5, graph -0.13 center top horizontal maxcols 2 font ',9' samplen 3 spacing 1.0
set rmargin 2
plot $m0 using 1:2 with linespoints dt 1 lw 3.5 pt 7 ps 1.60 lc rgb '#d62728' title 'event, pool 4', \
     $m1 using 1:2 with linespoints dt 1 lw 2.5 pt 5 ps 1.25 lc rgb '#ff7f0e' title 'event, pool 16', \
     $m2 using 1:2 with linespoints dt 1 lw 1.5 pt 9 ps 0.90 lc rgb '#1f77b4' title 'event, pool off', \
     $ceil0 using 1:2 with lines dt 2 lw 1.3 lc rgb '#d62728' notitle, \
     $ceil1 using 1:2 with lines dt 2 lw 1.3 lc rgb '#ff7f0e' notitle, \
     NaN with lines dt 2 lw 1.3 lc rgb '#666666' title "P/D: a pool's ceiling", \
     $diag using 1:2 with lines dt 3 lw 1.3 lc rgb '#666666' title 'C/D: no pool', \
     $tl using 1:2:3:4 with labels left font ',9' tc rgb variable notitle
$m0 << EOD
3.81997 52.729
15.2799 213.557
61.1195 810.268
244.478 3239.12
EOD
$m1 << EOD
4 75.409
16 63.112
64 209.642
256 887.629
EOD
$m2 << EOD
4.18851 53.511
16.7541 53.002
67.0162 53.395
268.065 53.462
EOD
$lit0 << EOD
2.5 50
4 50
320 4000
EOD
$lit1 << EOD
2.5 50
16 50
320 1000
EOD
$dflat << EOD
2.5 50
320 50
EOD
$ll << EOD
345.6 4000 "C/(P/D), P=4" 0xd62728
345.6 1000 "C/(P/D), P=16" 0xff7f0e
345.6 50 "D = 50 ms" 0x666666
EOD
set title "p99: grows as C/(P/D) once the pool is full (Little's law)"
set xlabel "connections (wrk -c, log)"
set ylabel "milliseconds (log)"
set logscale xy
set xrange [2.5:2048]
set grid xtics ytics lc rgb '#dddddd'
set key outside right top spacing 1.1 font ',10'
set border lc rgb '#555555'
set xtics ('4' 4, '16' 16, '64' 64, '256' 256)
set mxtics default
set ytics format '%g'
set yrange [10:20000]
set bmargin 8
set key at graph 0.5, graph -0.13 center top horizontal maxcols 2 font ',9' samplen 3 spacing 1.0
set rmargin 2
plot $m0 using 1:2 with linespoints dt 1 lw 3.5 pt 7 ps 1.60 lc rgb '#d62728' title 'event, pool 4 p99', \
     $m1 using 1:2 with linespoints dt 1 lw 2.5 pt 5 ps 1.25 lc rgb '#ff7f0e' title 'event, pool 16 p99', \
     $m2 using 1:2 with linespoints dt 1 lw 1.5 pt 9 ps 0.90 lc rgb '#1f77b4' title 'event, pool off p99', \
     $lit0 using 1:2 with lines dt 2 lw 1.3 lc rgb '#d62728' notitle, \
     $lit1 using 1:2 with lines dt 2 lw 1.3 lc rgb '#ff7f0e' notitle, \
     NaN with lines dt 2 lw 1.3 lc rgb '#666666' title "C/(P/D): Little's law", \
     $dflat using 1:2 with lines dt 3 lw 1.3 lc rgb '#666666' title 'D: no wait for a connection', \
     $ll using 1:2:3:4 with labels left font ',9' tc rgb variable notitle, \
     10000 with lines dt 3 lw 1 lc rgb '#d00000' title 'wrk --timeout 10s'
unset multiplot
unset output
reset
set terminal pngcairo size 1160,520 noenhanced font 'sans,9' background rgb 'white'
set output 'db-pools.png'
set multiplot layout 1,2 title "/db?delay=50 with a pool of P database connections (--db-pool P)"
$m0 << EOD
3.81997 79.1225
15.2799 79.0956
61.1195 79.0752
244.478 78.9901
EOD
$m1 << EOD
4 77.6962
16 313.275
64 314.592
256 308.508
EOD
$m2 << EOD
4.18851 79.0638
16.7541 314.783
67.0162 1252.07
268.065 4963.28
EOD
$ceil0 << EOD
2.5 80
320 80
EOD
$ceil1 << EOD
2.5 320
320 320
EOD
$diag << EOD
2.5 50
320 6400
EOD
$tl << EOD
345.6 80 "P/D = 80.0/s (P=4)" 0xd62728
345.6 320 "P/D = 320/s (P=16)" 0xff7f0e
345.6 6400 "C/D" 0x666666
EOD
set title "throughput: flat at P/D once the pool is full"
set xlabel "connections (wrk -c, log)"
set ylabel "requests/s (log)"
set logscale xy
set xrange [2.5:2048]
set grid xtics ytics lc rgb '#dddddd'
set key outside right top spacing 1.1 font ',10'
set border lc rgb '#555555'
set xtics ('4' 4, '16' 16, '64' 64, '256' 256)
set mxtics default
set ytics format '%g'
set yrange [10:10000]
set bmargin 8
set key at graph 0.5, graph -0.13 center top horizontal maxcols 2 font ',9' samplen 3 spacing 1.0
set rmargin 2
plot $m0 using 1:2 with linespoints dt 1 lw 3.5 pt 7 ps 1.60 lc rgb '#d62728' title 'event, pool 4', \
     $m1 using 1:2 with linespoints dt 1 lw 2.5 pt 5 ps 1.25 lc rgb '#ff7f0e' title 'event, pool 16', \
     $m2 using 1:2 with linespoints dt 1 lw 1.5 pt 9 ps 0.90 lc rgb '#1f77b4' title 'event, pool off', \
     $ceil0 using 1:2 with lines dt 2 lw 1.3 lc rgb '#d62728' notitle, \
     $ceil1 using 1:2 with lines dt 2 lw 1.3 lc rgb '#ff7f0e' notitle, \
     NaN with lines dt 2 lw 1.3 lc rgb '#666666' title "P/D: a pool's ceiling", \
     $diag using 1:2 with lines dt 3 lw 1.3 lc rgb '#666666' title 'C/D: no pool', \
     $tl using 1:2:3:4 with labels left font ',9' tc rgb variable notitle
$m0 << EOD
3.81997 52.729
15.2799 213.557
61.1195 810.268
244.478 3239.12
EOD
$m1 << EOD
4 75.409
16 63.112
64 209.642
256 887.629
EOD
$m2 << EOD
4.18851 53.511
16.7541 53.002
67.0162 53.395
268.065 53.462
EOD
$lit0 << EOD
2.5 50
4 50
320 4000
EOD
$lit1 << EOD
2.5 50
16 50
320 1000
EOD
$dflat << EOD
2.5 50
320 50
EOD
$ll << EOD
345.6 4000 "C/(P/D), P=4" 0xd62728
345.6 1000 "C/(P/D), P=16" 0xff7f0e
345.6 50 "D = 50 ms" 0x666666
EOD
set title "p99: grows as C/(P/D) once the pool is full (Little's law)"
set xlabel "connections (wrk -c, log)"
set ylabel "milliseconds (log)"
set logscale xy
set xrange [2.5:2048]
set grid xtics ytics lc rgb '#dddddd'
set key outside right top spacing 1.1 font ',10'
set border lc rgb '#555555'
set xtics ('4' 4, '16' 16, '64' 64, '256' 256)
set mxtics default
set ytics format '%g'
set yrange [10:20000]
set bmargin 8
set key at graph 0.5, graph -0.13 center top horizontal maxcols 2 font ',9' samplen 3 spacing 1.0
set rmargin 2
plot $m0 using 1:2 with linespoints dt 1 lw 3.5 pt 7 ps 1.60 lc rgb '#d62728' title 'event, pool 4 p99', \
     $m1 using 1:2 with linespoints dt 1 lw 2.5 pt 5 ps 1.25 lc rgb '#ff7f0e' title 'event, pool 16 p99', \
     $m2 using 1:2 with linespoints dt 1 lw 1.5 pt 9 ps 0.90 lc rgb '#1f77b4' title 'event, pool off p99', \
     $lit0 using 1:2 with lines dt 2 lw 1.3 lc rgb '#d62728' notitle, \
     $lit1 using 1:2 with lines dt 2 lw 1.3 lc rgb '#ff7f0e' notitle, \
     NaN with lines dt 2 lw 1.3 lc rgb '#666666' title "C/(P/D): Little's law", \
     $dflat using 1:2 with lines dt 3 lw 1.3 lc rgb '#666666' title 'D: no wait for a connection', \
     $ll using 1:2:3:4 with labels left font ',9' tc rgb variable notitle, \
     10000 with lines dt 3 lw 1 lc rgb '#d00000' title 'wrk --timeout 10s'
unset multiplot
unset output
reset
