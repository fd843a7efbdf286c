-- Ferry transform (Lua 5.4 with lua-cjson): a Tasmota SENSOR message becomes one record with
-- each sensor's readings flattened ("BME280_Temperature"), and the dew point computed across
-- fields for every sensor that reports temperature and humidity but no dew point (BME280, SHT3X,
-- AM2301 ...), with Tasmota's own formula, in the unit the device reports (TempUnit C or F).
-- Other topics pass through with the rules' records.
--
-- Protocol (docs/transforms.md): one JSON request per line on stdin, one reply per line on
-- stdout, flushed.
local cjson = require("cjson")
cjson.decode_invalid_numbers(false)

-- Tasmota's CalcTempHumToDew (support_float.ino), in degrees Celsius.
local function dew_point_c(t, h)
  local gamma = math.log(h / 100) + 17.62 * t / (243.5 + t)
  return 243.5 * gamma / (17.62 - gamma)
end

local function round1(x)
  return math.floor(x * 10 + 0.5) / 10
end

-- The device of a telemetry topic: Tasmota's full topic with the "tele" prefix and the SENSOR
-- suffix taken out ("tele/wemos1/SENSOR", "piegn/tele/mezzo/fridge/SENSOR" -> "piegn/mezzo/fridge").
-- nil for any other topic.
local function device_of(topic)
  if topic:sub(-7) ~= "/SENSOR" then return nil end
  local parts, tele = {}, false
  for part in topic:sub(1, -8):gmatch("[^/]+") do
    if part == "tele" and not tele then tele = true else parts[#parts + 1] = part end
  end
  if not tele or #parts == 0 then return nil end
  return table.concat(parts, "/")
end

local function sensor_record(topic, payload)
  local message = cjson.decode(payload)
  if type(message) ~= "table" then error("SENSOR payload is not a JSON object") end
  local fahrenheit = message.TempUnit == "F"
  local data = {}
  for sensor, readings in pairs(message) do
    if type(readings) ~= "table" and sensor ~= "Time" and sensor ~= "TempUnit" then
      data[sensor] = readings  -- "Switch1": "ON"
    elseif type(readings) == "table" then
      for field, value in pairs(readings) do
        if type(value) ~= "table" then data[sensor .. "_" .. field] = value end
      end
      local t, h = tonumber(readings.Temperature), tonumber(readings.Humidity)
      if t and h and h > 0 and readings.DewPoint == nil then
        if fahrenheit then t = (t - 32) * 5 / 9 end
        local dew = dew_point_c(t, h)
        if fahrenheit then dew = dew * 9 / 5 + 32 end
        data[sensor .. "_DewPoint"] = round1(dew)
      end
    end
  end
  if next(data) == nil then error("no sensor readings in the message") end
  data.TempUnit = message.TempUnit
  return {device = device_of(topic), data = data}
end

-- The reply line. Built by hand around the records: lua-cjson writes an empty table as {},
-- and "records" must be a list even when it is empty.
local function reply(id, records)
  local parts = {}
  for i, record in ipairs(records) do parts[i] = cjson.encode(record) end
  return '{"id":' .. string.format("%d", id) .. ',"records":[' .. table.concat(parts, ",") .. "]}"
end

local function handle(request)
  if request.payload == nil or device_of(request.topic) == nil then
    return reply(request.id, request.records)
  end
  local ok, record = pcall(sensor_record, request.topic, request.payload)
  if not ok then return cjson.encode({id = request.id, error = tostring(record)}) end
  return reply(request.id, {record})
end

for line in io.stdin:lines() do
  io.stdout:write(handle(cjson.decode(line)), "\n")
  io.stdout:flush()
end
