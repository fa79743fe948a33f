/*
 * dump.h - `warp dump` and `warp load`: a store to and from a text file.
 *
 * THE DUMP FORMAT (v1; docs/FORMATS.md, "Dump format", is the reference)
 *   # warp dump v1
 *   "<key>" "<value>"[ access=<name>][ priority=<name>]     one per pair
 *   # end <pairs>
 *   Every line ends with "\n". Strings are double-quoted; bytes 0x20-0x7e
 *   stand for themselves except '"' and '\', which are written \" and \\;
 *   every other byte is \n, \r, \t or \xHH (two hex digits). The hints
 *   appear when they are not the defaults (balanced, normal). The end line
 *   counts the pairs, so a truncated dump is detected.
 */
#ifndef WARP_CLI_DUMP_H
#define WARP_CLI_DUMP_H

#define DUMP_HEADER "# warp dump v1"
#define DUMP_END    "# end "

/* Run `warp dump DIR`: write every pair of the store to stdout. Returns 0,
 * 1 when the store cannot be opened or stdout cannot be written, 2 for bad
 * usage. */
int dump_main(int argc, char **argv);

/* Run `warp load DIR < dump`: put every pair of the dump on stdin into the
 * store (created if missing). Returns 0 when every pair was loaded and
 * made durable, 1 on malformed input or an engine error (after reporting
 * the line and how many pairs were loaded before it), 2 for bad usage. */
int load_main(int argc, char **argv);

#endif /* WARP_CLI_DUMP_H */
