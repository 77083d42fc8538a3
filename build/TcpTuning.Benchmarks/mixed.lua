-- wrk script: a mix of response shapes, in turn on each connection: small (plaintext), chatty (64 x 100 B with an
-- await between writes) and large (100 KiB in 1 KiB writes), in the proportions 6:3:1.
local paths = { "/plaintext", "/plaintext", "/chatty-async", "/plaintext", "/plaintext", "/chatty-async", "/plaintext", "/kib100", "/plaintext", "/chatty-async" }
local i = 0

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
