/* A host program that links cffi statically (libcffi.a) and registers it
** with luaL_requiref, as a game engine embedding Lua would; it runs two
** independent lua_States side by side and the script given as argv[1] in
** each, with the state's number in the global HOST_STATE. */
#include <stdio.h>

#include "lua.h"
#include "lualib.h"
#include "lauxlib.h"

int luaopen_cffi(lua_State *L);

static lua_State *host_new(int n) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "cffi", luaopen_cffi, 1);
  lua_pop(L, 1);
  lua_pushinteger(L, n);
  lua_setglobal(L, "HOST_STATE");
  return L;
}

static int host_run(lua_State *L, const char *script) {
  if (luaL_dofile(L, script) != LUA_OK) {
    fprintf(stderr, "host: %s\n", lua_tostring(L, -1));
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  lua_State *a, *b;
  int bad = 0;
  if (argc < 2) return 2;
  a = host_new(1);
  b = host_new(2);
  bad |= host_run(a, argv[1]);
  bad |= host_run(b, argv[1]);
  bad |= host_run(a, argv[1]);   /* again: a's declarations are still its own */
  lua_close(a);
  lua_close(b);
  puts(bad ? "host: failed" : "host: ok");
  return bad;
}
