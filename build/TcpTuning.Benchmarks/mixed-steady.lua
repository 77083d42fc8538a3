-- wrk script: mixed.lua with its chatty response written back to back (64 x 100 B, no await between writes): a mix
-- whose every response is written faster than the hold bound, so a cork should release nothing at the bound.
local paths = { "/plaintext", "/plaintext", "/chatty", "/plaintext", "/plaintext", "/chatty", "/plaintext", "/kib100", "/plaintext", "/chatty" }
local i = 0

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
