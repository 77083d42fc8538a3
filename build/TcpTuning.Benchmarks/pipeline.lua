-- wrk script: sends DEPTH requests back to back on each connection before reading (HTTP/1.1 pipelining).
init = function(args)
  local depth = tonumber(args[1]) or 16
  local requests = {}
  for i = 1, depth do
    requests[i] = wrk.format()
  end
  pipelined = table.concat(requests)
end

request = function()
  return pipelined
end
