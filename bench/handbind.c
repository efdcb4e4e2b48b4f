/* handbind: the benchlib functions bound by hand, the ordinary way
** (lua_CFunction + luaL_check*): the cost an FFI call is measured against. */
#include <stddef.h>
#include "lua.h"
#include "lauxlib.h"

int bench_add(int a, int b);
double bench_add_d(double a, double b);
void bench_noop(void);
int bench_sum8(int a, int b, int c, int d, int e, int f, int g, int h);
size_t bench_strlen(const char *s);

static int hb_add(lua_State *L) {
  lua_pushinteger(L, bench_add((int)luaL_checkinteger(L, 1),
                               (int)luaL_checkinteger(L, 2)));
  return 1;
}
static int hb_add_d(lua_State *L) {
  lua_pushnumber(L, bench_add_d(luaL_checknumber(L, 1), luaL_checknumber(L, 2)));
  return 1;
}
static int hb_noop(lua_State *L) { (void)L; bench_noop(); return 0; }
static int hb_sum8(lua_State *L) {
  int a[8], i;
  for (i = 0; i < 8; i++) a[i] = (int)luaL_checkinteger(L, i + 1);
  lua_pushinteger(L, bench_sum8(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]));
  return 1;
}
static int hb_strlen(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)bench_strlen(luaL_checkstring(L, 1)));
  return 1;
}

static const luaL_Reg hb_funcs[] = {
  {"add", hb_add}, {"add_d", hb_add_d}, {"noop", hb_noop},
  {"sum8", hb_sum8}, {"strlen", hb_strlen}, {NULL, NULL}
};

__attribute__((visibility("default"))) int luaopen_handbind(lua_State *L) {
  luaL_newlib(L, hb_funcs);
  return 1;
}
