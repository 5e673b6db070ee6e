// The smallest useful guest: exported arithmetic for the one-line API and the CLI.
#define EXPORT __attribute__((visibility("default")))

EXPORT int add(int a, int b) { return a + b; }
EXPORT long long mul64(long long a, long long b) { return a * b; }
EXPORT double average(double a, double b) { return (a + b) / 2; }
