# made by loadtest/compare; gnuplot hello-throughput.gp (from the results folder's charts/)
$m0 << EOD
0.812831 10455.6 NaN
8.12831 37619.5 NaN
81.2831 44756 NaN
812.831 38821.2 NaN
EOD
$m1 << EOD
0.851138 12646.8 NaN
8.51138 138074 NaN
85.1138 107271 NaN
851.138 74929.2 NaN
EOD
$m2 << EOD
0.891251 11718.3 NaN
8.91251 24749 NaN
89.1251 29866.9 NaN
891.251 26974.7 NaN
EOD
$m3 << EOD
0.933254 12499.5 NaN
9.33254 126453 NaN
93.3254 152490 NaN
933.254 125288 NaN
EOD
$m4 << EOD
0.977237 12066.4 NaN
9.77237 26766.6 NaN
97.7237 31418 NaN
977.237 29455.8 NaN
EOD
$m5 << EOD
1.02329 12834.9 NaN
10.2329 120589 NaN
102.329 192253 NaN
1023.29 171054 NaN
EOD
$m6 << EOD
1.07152 13655.4 NaN
10.7152 134915 NaN
107.152 157298 NaN
1071.52 148632 NaN
EOD
$m7 << EOD
1.12202 12340.2 NaN
11.2202 196393 NaN
112.202 174102 NaN
1122.02 173087 NaN
EOD
$m8 << EOD
1.1749 11110.7 NaN
11.749 63781.2 NaN
117.49 43277.2 NaN
1174.9 46974.5 NaN
EOD
$m9 << EOD
1.23027 10972.3 NaN
12.3027 47142.6 NaN
123.027 41105.5 NaN
1230.27 33664.8 NaN
EOD
$err << EOD
1174.9 46974.5
EOD
$errl << EOD
1174.9 59137.4 "128 err" 0xbcbd22
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
plot $m0 using 1:2 with linespoints lw 3.5 pt 7 ps 1.60 lc rgb '#9467bd' title 'iterative', \
     $m1 using 1:2 with linespoints lw 3.3 pt 5 ps 1.52 lc rgb '#1f77b4' title 'threads', \
     $m2 using 1:2 with linespoints lw 3.1 pt 9 ps 1.44 lc rgb '#2ca02c' title 'prefork', \
     $m3 using 1:2 with linespoints lw 2.8 pt 13 ps 1.37 lc rgb '#ff7f0e' title 'event', \
     $m4 using 1:2 with linespoints lw 2.6 pt 11 ps 1.29 lc rgb '#8c564b' title 'pool', \
     $m5 using 1:2 with linespoints lw 2.4 pt 15 ps 1.21 lc rgb '#e377c2' title 'reactors', \
     $m6 using 1:2 with linespoints lw 2.2 pt 3 ps 1.13 lc rgb '#17becf' title 'offload', \
     $m7 using 1:2 with linespoints lw 1.9 pt 6 ps 1.06 lc rgb '#7f7f7f' title 'nginx', \
     $m8 using 1:2 with linespoints lw 1.7 pt 4 ps 0.98 lc rgb '#bcbd22' title 'apache-prefork', \
     $m9 using 1:2 with linespoints lw 1.5 pt 8 ps 0.90 lc rgb '#393b79' title 'apache-worker', \
     $err using 1:2 with points pt 6 ps 2 lw 2 lc rgb '#d00000' title 'run with errors', \
     $errl using 1:2:3:4 with labels font ',9' tc rgb variable notitle
set terminal pngcairo size 760,420 noenhanced font 'sans,10' background rgb 'white'
set output 'hello-throughput.png'
replot
unset output
