// A JSON answer of the status server. Internal to agent/status (includes httplib).
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>

namespace ferry::agent {

inline void JsonAnswer(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                  "application/json");
}

}  // namespace ferry::agent
