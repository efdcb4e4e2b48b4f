-- Runs every ```lua block of README.md: the documentation stays true.
local function blocks()
  local f = assert(io.open("README.md", "r"))
  local text = f:read("a")
  f:close()
  local list, n = {}, 0
  for code in text:gmatch("```lua\n(.-)```") do
    n = n + 1
    list[#list + 1] = { n = n, code = code }
  end
  return list
end

describe("README examples", function()
  local list = blocks()

  it("has examples", function()
    assert.is_true(#list >= 1)
  end)

  for _, b in ipairs(list) do
    it("block " .. b.n .. " runs", function()
      local chunk = assert(load(b.code, "=README block " .. b.n, "t"))
      chunk()
    end)
  end
end)
