-- wrk script: a mix of response shapes, in turn on each connection: small (plaintext), chatty (64 x 100 B) and large
-- (100 KiB in 1 KiB writes), in the proportions 6:3:1. The chatty response awaits between its writes, or, with the
-- argument "steady", writes them back to back (every response then written faster than a cork's hold bound).
local chatty = "/chatty-async"
local paths
local i = 0

init = function(args)
  if args[1] == "steady" then
    chatty = "/chatty"
  end
  paths = { "/plaintext", "/plaintext", chatty, "/plaintext", "/plaintext", chatty, "/plaintext", "/kib100", "/plaintext", chatty }
end

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
