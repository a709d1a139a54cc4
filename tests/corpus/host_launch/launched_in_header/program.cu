#include "histogram.cuh"

int main() {
    unsigned int *data = 0, *bins = 0;
    histogram_small(data, bins);
    return 0;
}
