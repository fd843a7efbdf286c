#include "agent/sparkplug/sparkplug_payload.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <memory>

#include "agent/sparkplug/sparkplug_b.pb-c.h"
#include "agent/sparkplug/sparkplug_wire.h"

namespace ferry::agent {
namespace {

using nlohmann::json;
using PbPayload = Ferry__Sparkplug__Payload;
using PbMetric = Ferry__Sparkplug__Payload__Metric;
using PbDataSet = Ferry__Sparkplug__Payload__DataSet;
using PbTemplate = Ferry__Sparkplug__Payload__Template;

std::string Str(const ProtobufCBinaryData& b) {
  return std::string(reinterpret_cast<const char*>(b.data), b.len);
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(n >> s) & 63];
  }
  if (i < in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) n |= uint8_t(in[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

json Real(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// An integer sent in int_value (32 bits) or long_value (64 bits), typed by `datatype`.
json Integer(uint32_t datatype, uint64_t raw) {
  switch (datatype) {
    case kSpInt8:
      return static_cast<int8_t>(raw);
    case kSpInt16:
      return static_cast<int16_t>(raw);
    case kSpInt32:
      return static_cast<int32_t>(raw);
    case kSpInt64:
      return static_cast<int64_t>(raw);
    case kSpUInt8:
      return static_cast<uint8_t>(raw);
    case kSpUInt16:
      return static_cast<uint16_t>(raw);
    case kSpUInt32:
      return static_cast<uint32_t>(raw);
    case kSpBoolean:
      return raw != 0;
    default:
      return raw;  // UInt64, DateTime (ms), or no datatype
  }
}

template <typename T>
T LittleEndian(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) {
    auto* b = reinterpret_cast<unsigned char*>(&v);
    for (size_t i = 0; i < sizeof v / 2; ++i) std::swap(b[i], b[sizeof v - 1 - i]);
  }
  return v;
}

template <typename T>
json PackedArray(std::string_view b) {
  json out = json::array();
  for (size_t i = 0; i + sizeof(T) <= b.size(); i += sizeof(T)) {
    T v = LittleEndian<T>(b.data() + i);
    if constexpr (std::is_floating_point_v<T>) {
      out.push_back(Real(v));
    } else {
      out.push_back(v);
    }
  }
  return out;
}

// The array types (specification 6.4.17): little-endian packed values in bytes_value; a
// BooleanArray is a 4-byte count and then the bits, most significant first; a StringArray is
// NUL-terminated strings.
json ArrayValue(uint32_t datatype, std::string_view b) {
  switch (datatype) {
    case 22:
      return PackedArray<int8_t>(b);
    case 23:
      return PackedArray<int16_t>(b);
    case 24:
      return PackedArray<int32_t>(b);
    case 25:
      return PackedArray<int64_t>(b);
    case 26:
      return PackedArray<uint8_t>(b);
    case 27:
      return PackedArray<uint16_t>(b);
    case 28:
      return PackedArray<uint32_t>(b);
    case 29:
      return PackedArray<uint64_t>(b);
    case 30:
      return PackedArray<float>(b);
    case 31:
      return PackedArray<double>(b);
    case 34:
      return PackedArray<int64_t>(b);
    case 32: {
      json out = json::array();
      if (b.size() < 4) return out;
      uint64_t n = LittleEndian<uint32_t>(b.data());
      n = std::min<uint64_t>(n, (b.size() - 4) * 8);
      for (uint64_t i = 0; i < n; ++i)
        out.push_back(((uint8_t(b[4 + i / 8]) >> (7 - i % 8)) & 1) != 0);
      return out;
    }
    case 33: {
      json out = json::array();
      size_t start = 0;
      while (start < b.size()) {
        size_t end = b.find('\0', start);
        if (end == std::string_view::npos) end = b.size();
        out.push_back(std::string(b.substr(start, end - start)));
        start = end + 1;
      }
      return out;
    }
    default:
      return Base64(b);
  }
}

json MetricValue(const PbMetric& m, int depth);

json DataSetValue(const PbDataSet& d) {
  json columns = json::array();
  for (size_t i = 0; i < d.n_columns; ++i) columns.push_back(Str(d.columns[i]));
  json rows = json::array();
  for (size_t r = 0; r < d.n_rows; ++r) {
    json row = json::array();
    const auto* pb_row = d.rows[r];
    for (size_t c = 0; c < pb_row->n_elements; ++c) {
      const auto& e = *pb_row->elements[c];
      uint32_t type = c < d.n_types ? d.types[c] : kSpUnknown;
      switch (e.value_case) {
        case FERRY__SPARKPLUG__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE_INT_VALUE:
          row.push_back(Integer(type, e.int_value));
          break;
        case FERRY__SPARKPLUG__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE_LONG_VALUE:
          row.push_back(Integer(type, e.long_value));
          break;
        case FERRY__SPARKPLUG__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE_FLOAT_VALUE:
          row.push_back(Real(e.float_value));
          break;
        case FERRY__SPARKPLUG__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE_DOUBLE_VALUE:
          row.push_back(Real(e.double_value));
          break;
        case FERRY__SPARKPLUG__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE_BOOLEAN_VALUE:
          row.push_back(e.boolean_value != 0);
          break;
        case FERRY__SPARKPLUG__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE_STRING_VALUE:
          row.push_back(Str(e.string_value));
          break;
        default:
          row.push_back(nullptr);
      }
    }
    rows.push_back(std::move(row));
  }
  return {{"columns", std::move(columns)}, {"rows", std::move(rows)}};
}

json TemplateValue(const PbTemplate& t, int depth) {
  json out = json::object();
  if (t.has_template_ref) out["template_ref"] = Str(t.template_ref);
  if (t.has_version) out["version"] = Str(t.version);
  if (t.has_is_definition) out["is_definition"] = t.is_definition != 0;
  json metrics = json::object();
  for (size_t i = 0; i < t.n_metrics; ++i) {
    const PbMetric& m = *t.metrics[i];
    metrics[m.has_name ? Str(m.name) : std::to_string(i)] = MetricValue(m, depth + 1);
  }
  out["metrics"] = std::move(metrics);
  if (t.n_parameters > 0) {
    json params = json::object();
    for (size_t i = 0; i < t.n_parameters; ++i) {
      const auto& p = *t.parameters[i];
      json v;
      switch (p.value_case) {
        case FERRY__SPARKPLUG__PAYLOAD__TEMPLATE__PARAMETER__VALUE_INT_VALUE:
          v = Integer(p.type, p.int_value);
          break;
        case FERRY__SPARKPLUG__PAYLOAD__TEMPLATE__PARAMETER__VALUE_LONG_VALUE:
          v = Integer(p.type, p.long_value);
          break;
        case FERRY__SPARKPLUG__PAYLOAD__TEMPLATE__PARAMETER__VALUE_FLOAT_VALUE:
          v = Real(p.float_value);
          break;
        case FERRY__SPARKPLUG__PAYLOAD__TEMPLATE__PARAMETER__VALUE_DOUBLE_VALUE:
          v = Real(p.double_value);
          break;
        case FERRY__SPARKPLUG__PAYLOAD__TEMPLATE__PARAMETER__VALUE_BOOLEAN_VALUE:
          v = p.boolean_value != 0;
          break;
        case FERRY__SPARKPLUG__PAYLOAD__TEMPLATE__PARAMETER__VALUE_STRING_VALUE:
          v = Str(p.string_value);
          break;
        default:
          break;
      }
      params[p.has_name ? Str(p.name) : std::to_string(i)] = std::move(v);
    }
    out["parameters"] = std::move(params);
  }
  return out;
}

json MetricValue(const PbMetric& m, int depth) {
  if (m.has_is_null && m.is_null) return nullptr;
  uint32_t type = m.has_datatype ? m.datatype : kSpUnknown;
  switch (m.value_case) {
    case FERRY__SPARKPLUG__PAYLOAD__METRIC__VALUE_INT_VALUE:
      return Integer(type, m.int_value);
    case FERRY__SPARKPLUG__PAYLOAD__METRIC__VALUE_LONG_VALUE:
      return Integer(type, m.long_value);
    case FERRY__SPARKPLUG__PAYLOAD__METRIC__VALUE_FLOAT_VALUE:
      return Real(m.float_value);
    case FERRY__SPARKPLUG__PAYLOAD__METRIC__VALUE_DOUBLE_VALUE:
      return Real(m.double_value);
    case FERRY__SPARKPLUG__PAYLOAD__METRIC__VALUE_BOOLEAN_VALUE:
      return m.boolean_value != 0;
    case FERRY__SPARKPLUG__PAYLOAD__METRIC__VALUE_STRING_VALUE:
      return Str(m.string_value);
    case FERRY__SPARKPLUG__PAYLOAD__METRIC__VALUE_BYTES_VALUE:
      return ArrayValue(type,
                        {reinterpret_cast<const char*>(m.bytes_value.data), m.bytes_value.len});
    case FERRY__SPARKPLUG__PAYLOAD__METRIC__VALUE_DATASET_VALUE:
      return DataSetValue(*m.dataset_value);
    case FERRY__SPARKPLUG__PAYLOAD__METRIC__VALUE_TEMPLATE_VALUE:
      return TemplateValue(*m.template_value, depth);
    default:
      return nullptr;
  }
}

SparkplugMetric ToMetric(const PbMetric& m) {
  SparkplugMetric out;
  if (m.has_name) out.name = Str(m.name);
  if (m.has_alias) out.alias = m.alias;
  if (m.has_timestamp) out.timestamp = m.timestamp;
  if (m.has_datatype) out.datatype = m.datatype;
  out.is_null = m.has_is_null && m.is_null;
  out.value = MetricValue(m, 1);
  out.value_field = static_cast<int>(m.value_case);
  if (m.value_case == FERRY__SPARKPLUG__PAYLOAD__METRIC__VALUE_INT_VALUE) out.raw_int = m.int_value;
  if (m.value_case == FERRY__SPARKPLUG__PAYLOAD__METRIC__VALUE_LONG_VALUE)
    out.raw_int = m.long_value;
  if (m.value_case == FERRY__SPARKPLUG__PAYLOAD__METRIC__VALUE_BYTES_VALUE && !m.has_datatype) {
    out.raw_bytes = Str(m.bytes_value);
  }
  return out;
}

// protobuf-c allocates every message and repeated field on its own; a bump arena per thread
// makes a 50-metric DDATA cost one pass instead of ~100 malloc/free pairs. Its chunks are kept
// for the next payload up to kKeptBytes; whatever a large payload needed beyond that is freed.
class Arena {
 public:
  static constexpr size_t kChunk = 16 * 1024;
  static constexpr size_t kKeptBytes = 256 * 1024;

  void* Alloc(size_t n) {
    n = (n + 15) & ~size_t{15};
    if (chunks_.empty() || used_ + n > chunks_[current_].size) Next(n);
    void* p = chunks_[current_].data.get() + used_;
    used_ += n;
    return p;
  }
  void Reset() {
    size_t kept = 0, i = 0;
    while (i < chunks_.size() && kept + chunks_[i].size <= kKeptBytes) kept += chunks_[i++].size;
    chunks_.resize(i);
    current_ = 0;
    used_ = 0;
  }
  ProtobufCAllocator* allocator() { return &allocator_; }

 private:
  struct Chunk {
    std::unique_ptr<char[]> data;
    size_t size;
  };
  void Next(size_t n) {
    used_ = 0;
    if (!chunks_.empty() && current_ + 1 < chunks_.size() && chunks_[current_ + 1].size >= n) {
      ++current_;
      return;
    }
    size_t size = std::max(n, kChunk);
    chunks_.insert(chunks_.begin() + (chunks_.empty() ? 0 : current_ + 1),
                   Chunk{std::make_unique<char[]>(size), size});
    current_ = chunks_.size() == 1 ? 0 : current_ + 1;
  }
  static void* AllocFn(void* self, size_t n) { return static_cast<Arena*>(self)->Alloc(n); }
  static void FreeFn(void*, void*) {}

  std::vector<Chunk> chunks_;
  size_t current_ = 0;
  size_t used_ = 0;
  ProtobufCAllocator allocator_{&Arena::AllocFn, &Arena::FreeFn, this};
};

struct ResetArena {
  void operator()(Arena* a) const { a->Reset(); }
};

}  // namespace

bool DecodeSparkplug(std::string_view bytes, SparkplugPayload* out, std::string* reason) {
  if (!SparkplugDepthWithin(bytes, kMaxSparkplugDepth)) {
    *reason = "sparkplug: nested deeper than " + std::to_string(kMaxSparkplugDepth) + " levels";
    return false;
  }
  thread_local Arena arena;
  std::unique_ptr<Arena, ResetArena> reset(&arena);  // the payload lives until the return
  const PbPayload* p = ferry__sparkplug__payload__unpack(
      arena.allocator(), bytes.size(), reinterpret_cast<const uint8_t*>(bytes.data()));
  if (p == nullptr) {
    *reason = "sparkplug: invalid protobuf";
    return false;
  }
  *out = SparkplugPayload();
  if (p->has_timestamp) out->timestamp = p->timestamp;
  if (p->has_seq) out->seq = p->seq;
  out->metrics.reserve(p->n_metrics);
  for (size_t i = 0; i < p->n_metrics; ++i) out->metrics.push_back(ToMetric(*p->metrics[i]));
  return true;
}

void RetypeSparkplugValue(uint32_t datatype, SparkplugMetric* m) {
  if (m->is_null || datatype == kSpUnknown) return;
  m->datatype = datatype;
  if (m->value_field == FERRY__SPARKPLUG__PAYLOAD__METRIC__VALUE_INT_VALUE ||
      m->value_field == FERRY__SPARKPLUG__PAYLOAD__METRIC__VALUE_LONG_VALUE) {
    m->value = Integer(datatype, m->raw_int);
  } else if (m->value_field == FERRY__SPARKPLUG__PAYLOAD__METRIC__VALUE_BYTES_VALUE &&
             !m->raw_bytes.empty()) {
    m->value = ArrayValue(datatype, m->raw_bytes);
    m->raw_bytes.clear();
  }
}

}  // namespace ferry::agent
