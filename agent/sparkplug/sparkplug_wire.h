// A walk over the protobuf wire format of a Sparkplug B payload that checks only how deep its
// messages nest, without allocating: run before the protobuf library's decoder, which recurses
// once per level, so a hostile payload of 10,000 nested templates cannot exhaust the stack.
#pragma once

#include <string_view>

namespace ferry::agent {

// False when a message inside `bytes` nests deeper than `max_depth` levels (the Payload itself
// is level 1). Malformed wire data is not judged here (true): the decoder refuses it.
bool SparkplugDepthWithin(std::string_view bytes, int max_depth);

}  // namespace ferry::agent
