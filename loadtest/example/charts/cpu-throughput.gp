# made by loadtest/compare; gnuplot cpu-throughput.gp (from the results folder's charts/)
$m0 << EOD
0.812831 28.2772 29.3496
8.12831 28.354 27.9415
81.2831 29.4614 28.7035
812.831 28.3543 27.3123
EOD
$m1 << EOD
0.851138 27.4662 27.297
8.51138 53.3382 53.4371
85.1138 49.0163 58.9375
851.138 30.1885 0
EOD
$m2 << EOD
0.891251 27.2564 27.4266
8.91251 53.89 53.9892
89.1251 54.5327 53.2414
891.251 54.3102 56.9812
EOD
$m3 << EOD
0.933254 27.3582 27.2773
9.33254 27.6452 27.4755
93.3254 27.2551 27.502
933.254 27.3349 27.2257
EOD
$m4 << EOD
0.977237 26.9638 27.4518
9.77237 53.5882 53.9851
97.7237 53.4966 53.1004
977.237 53.4401 53.1426
EOD
$m5 << EOD
1.02329 29.456 28.7658
10.2329 59.781 60.1352
102.329 56.8852 57.001
1023.29 57.6677 53.6707
EOD
$m6 << EOD
1.07152 27.6555 28.1061
10.7152 54.703 52.5719
107.152 55.2701 56.3209
1071.52 53.2616 53.557
EOD
$err << EOD
812.831 28.3543
851.138 30.1885
891.251 54.3102
93.3254 27.2551
933.254 27.3349
977.237 53.4401
102.329 56.8852
1023.29 57.6677
1071.52 53.2616
EOD
$errl << EOD
812.831 31.8121 "144 err" 0x9467bd
851.138 36.3072 "328 err" 0x1f77b4
891.251 62.4128 "277 err" 0x2ca02c
933.254 30.7927 "75 err" 0xff7f0e
977.237 57.9177 "269 err" 0x8c564b
1023.29 66.908 "104 err" 0xe377c2
1071.52 53.4226 "269 err" 0x17becf
93.3254 30.7129 "27 err" 0xff7f0e
102.329 60.3429 "64 err" 0xe377c2
EOD
set title "/cpu?iterations=150000 — throughput"
set xlabel "connections offered by wrk (log)"
set ylabel "requests/s"
set logscale xy
set xrange [0.625:1600]
set grid xtics ytics lc rgb '#dddddd'
set key outside right top spacing 1.1 font ',10'
set border lc rgb '#555555'
set xtics ('1' 1, '10' 10, '100' 100, '1000' 1000)
set mxtics default
set ytics format '%g'
unset logscale y
set logscale x
set yrange [0:69.1555]

set key below center horizontal maxcols 3 spacing 1.0 font ',9'
set terminal svg size 760,505 noenhanced font 'sans,11' background rgb 'white'
set output 'cpu-throughput.svg'
plot $m0 using 1:2 with linespoints lw 3.5 pt 7 ps 1.60 lc rgb '#9467bd' title 'iterative', \
     $m0 using 1:3 with lines dt 2 lw 1.5 lc rgb '#9467bd' title 'iterative predicted', \
     $m1 using 1:2 with linespoints lw 3.3 pt 5 ps 1.52 lc rgb '#1f77b4' title 'threads', \
     $m1 using 1:3 with lines dt 2 lw 1.5 lc rgb '#1f77b4' title 'threads predicted', \
     $m2 using 1:2 with linespoints lw 3.1 pt 9 ps 1.44 lc rgb '#2ca02c' title 'prefork', \
     $m2 using 1:3 with lines dt 2 lw 1.5 lc rgb '#2ca02c' title 'prefork predicted', \
     $m3 using 1:2 with linespoints lw 2.8 pt 13 ps 1.37 lc rgb '#ff7f0e' title 'event', \
     $m3 using 1:3 with lines dt 2 lw 1.5 lc rgb '#ff7f0e' title 'event predicted', \
     $m4 using 1:2 with linespoints lw 2.6 pt 11 ps 1.29 lc rgb '#8c564b' title 'pool', \
     $m4 using 1:3 with lines dt 2 lw 1.5 lc rgb '#8c564b' title 'pool predicted', \
     $m5 using 1:2 with linespoints lw 2.4 pt 15 ps 1.21 lc rgb '#e377c2' title 'reactors', \
     $m5 using 1:3 with lines dt 2 lw 1.5 lc rgb '#e377c2' title 'reactors predicted', \
     $m6 using 1:2 with linespoints lw 2.2 pt 3 ps 1.13 lc rgb '#17becf' title 'offload', \
     $m6 using 1:3 with lines dt 2 lw 1.5 lc rgb '#17becf' title 'offload predicted', \
     $err using 1:2 with points pt 6 ps 2 lw 2 lc rgb '#d00000' title 'run with errors', \
     $errl using 1:2:3:4 with labels font ',9' tc rgb variable notitle
set terminal pngcairo size 760,505 noenhanced font 'sans,10' background rgb 'white'
set output 'cpu-throughput.png'
replot
unset output
