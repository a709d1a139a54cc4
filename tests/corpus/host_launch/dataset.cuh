// Sizes chosen by a dataset macro, the default one selected when none is
// given (the layout benchmark suites use).
#ifndef DATASET_CUH
#define DATASET_CUH

#if !defined(TINY_SET) && !defined(HUGE_SET)
#define MEDIUM_SET
#endif

#ifdef TINY_SET
#define ROWS 64
#define COLS 48
#endif

#ifdef MEDIUM_SET
#define ROWS 600
#define COLS 300
#endif

#ifdef HUGE_SET
#define ROWS 8192
#define COLS 8192
#endif

#define TILE_X 32
#define TILE_Y 8

typedef float real;

#endif
