#pragma once

#include <cstddef>

// The console's page, compiled into claude-bridgectl from ctl/ui/assets/ by embed_assets.py
// (meson custom_target): nothing is read from disk or fetched from another host at run time.
namespace cb::ctl::ui {

struct Asset {
  const unsigned char* data;
  std::size_t size;
  const char* type;  // the Content-Type it is served with
};

const Asset& asset_index_html();
const Asset& asset_app_js();
const Asset& asset_app_css();
const Asset& asset_views_js();
const Asset& asset_health_js();
const Asset& asset_agents_js();

}  // namespace cb::ctl::ui
