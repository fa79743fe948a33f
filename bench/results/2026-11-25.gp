# written by `warp bench --plot`; redraw with `gnuplot bench/results/2026-11-25.gp`
set terminal pngcairo size 1280,800 font ",11"
set output 'bench/results/2026-11-25.png'
set title "WarpEngine, LMDB and RocksDB on the seed's workloads\n{/*0.8 median of 3 x 1.5 s; simple/mixed 1000000 keys x 100 B; complex target-gb 1 (300000 entries); fsync everysec; 2 CPUs}"
set logscale y
set format y "%.0s%c"
set yrange [300:*]
set xlabel "threads"
set ylabel "ops/s (log scale)"
set grid ytics mytics
set key outside right top box
set xrange [0.75:2.25]
set xtics ("1" 1, "2" 2)
plot \
  'bench/results/2026-11-25.dat' index 0 using 1:2 with linespoints lw 2 lc rgb "#1f5fbf" dt 1 pt 7 ps 1.5 title "warp simple, physics full", \
  'bench/results/2026-11-25.dat' index 1 using 1:2 with linespoints lw 2 lc rgb "#2e9e44" dt 1 pt 7 ps 1.5 title "lmdb simple", \
  'bench/results/2026-11-25.dat' index 2 using 1:2 with linespoints lw 2 lc rgb "#e07b00" dt 1 pt 7 ps 1.5 title "rocksdb simple", \
  'bench/results/2026-11-25.dat' index 3 using 1:2 with linespoints lw 2 lc rgb "#1f5fbf" dt 2 pt 9 ps 1.5 title "warp mixed, physics full", \
  'bench/results/2026-11-25.dat' index 4 using 1:2 with linespoints lw 2 lc rgb "#2e9e44" dt 2 pt 9 ps 1.5 title "lmdb mixed", \
  'bench/results/2026-11-25.dat' index 5 using 1:2 with linespoints lw 2 lc rgb "#e07b00" dt 2 pt 9 ps 1.5 title "rocksdb mixed", \
  'bench/results/2026-11-25.dat' index 6 using 1:2 with linespoints lw 2 lc rgb "#1f5fbf" dt 4 pt 5 ps 1.5 title "warp complex, physics full", \
  'bench/results/2026-11-25.dat' index 7 using 1:2 with linespoints lw 2 lc rgb "#2e9e44" dt 4 pt 5 ps 1.5 title "lmdb complex", \
  'bench/results/2026-11-25.dat' index 8 using 1:2 with linespoints lw 2 lc rgb "#e07b00" dt 4 pt 5 ps 1.5 title "rocksdb complex", \
  1038 with lines lw 1.5 lc rgb "#b00020" dt 2 title "seed measured, 1 process: 1,038 ops/s", \
  630 with lines lw 1.5 lc rgb "#b00020" dt 3 title "seed measured, 4 processes: 630 ops/s", \
  300000 with lines lw 1.5 lc rgb "#888888" dt 1 title "seed target, simple: 300K", \
  150000 with lines lw 1.5 lc rgb "#888888" dt 2 title "seed target, mixed: 150K", \
  75000 with lines lw 1.5 lc rgb "#888888" dt 4 title "seed target, complex: 75K"
