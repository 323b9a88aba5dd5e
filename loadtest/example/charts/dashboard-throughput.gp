# made by loadtest/compare; gnuplot dashboard-throughput.gp (from the results folder's charts/)
$m0 << EOD
0.812831 2.39512 2.5
8.12831 2.39534 2.5
81.2831 2.39437 2.5
812.831 2.38238 2.5
EOD
$m1 << EOD
0.851138 2.39366 2.5
8.51138 24.2389 25
85.1138 239.547 250
851.138 2390.45 2500
EOD
$m2 << EOD
0.891251 2.39413 2.5
8.91251 19.16 20
89.1251 19.7525 20
891.251 19.3031 20
EOD
$m3 << EOD
0.933254 9.88187 10
9.33254 98.7968 100
93.3254 968.696 1000
933.254 9716.37 10000
EOD
$m4 << EOD
0.977237 2.39443 2.5
9.77237 19.6577 20
97.7237 19.6531 20
977.237 19.7938 20
EOD
$m5 << EOD
1.02329 9.87437 10
10.2329 98.8042 100
102.329 981.539 1000
1023.29 9763.17 10000
EOD
$m6 << EOD
1.07152 9.87619 10
10.7152 98.8447 100
107.152 977.852 1000
1071.52 9658.21 10000
EOD
$err << EOD
81.2831 2.39437
812.831 2.38238
89.1251 19.7525
891.251 19.3031
97.7237 19.6531
977.237 19.7938
EOD
$errl << EOD
81.2831 4.25785 "12 err" 0x9467bd
812.831 4.23654 "12 err" 0x9467bd
89.1251 73.8638 "51 err" 0x2ca02c
97.7237 34.9487 "52 err" 0x8c564b
891.251 34.3264 "98 err" 0x2ca02c
977.237 72.5484 "103 err" 0x8c564b
EOD
set title "/dashboard?delay=100&widgets=4 — throughput"
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

set key below center horizontal maxcols 3 spacing 1.0 font ',9'
set terminal svg size 760,505 noenhanced font 'sans,11' background rgb 'white'
set output 'dashboard-throughput.svg'
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
set output 'dashboard-throughput.png'
replot
unset output
