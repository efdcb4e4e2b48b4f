/* benchlib: trivial C functions whose cost is dominated by the call path
** (bench/add.lua calls them through cffi and through handbind.c). */
#include <stddef.h>

#define API __attribute__((visibility("default"), noinline))

API int bench_add(int a, int b) { return a + b; }
API double bench_add_d(double a, double b) { return a + b; }
API void bench_noop(void) { __asm__ volatile(""); }
API int bench_sum8(int a, int b, int c, int d, int e, int f, int g, int h)
{ return a + b + c + d + e + f + g + h; }
API size_t bench_strlen(const char *s)
{
  const char *p = s;
  while (*p) p++;
  return (size_t)(p - s);
}
