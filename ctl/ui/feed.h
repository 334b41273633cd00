#pragma once

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "ctl/ui/events.h"

// What the console learns from the daemon without a page asking: one `watch` subscription
// (every stored message, status change, new conversation and approval request, published to
// the pages as `bridge` events) and a sampler that reads `stats` and `approvals` every
// kSampleSeconds (published as `stats` and `approvals` events, the last kHistory samples kept
// for pages opened later). Neither method is audited by the daemon, so watching adds no audit
// entries; one console costs the daemon one subscription and two calls per sample period.
namespace cb::ctl::ui {

class Feed {
 public:
  static constexpr int kSampleSeconds = 5;
  static constexpr std::size_t kHistory = 180;  // 15 minutes
  static constexpr int kHeartbeatSeconds = 15;

  // `gone` runs once, on the watch thread, when the daemon closes the subscription.
  Feed(std::filesystem::path socket_dir, Hub& hub, std::function<void()> gone);
  ~Feed();

  // Subscribes and takes the first sample; throws CtlError when no daemon answers.
  void start();
  // Ends both threads (the watch thread notices within a quarter second).
  void stop();

  // {"samples":[{"t":ms,"stats":{...}}...],"approvals":[...]} for a page that just opened.
  Json health();
  // Reads `approvals` again now (an approval was requested).
  void refresh_soon();

 private:
  void watch_loop();
  void sample_loop();
  void sample_once();

  std::filesystem::path socket_dir_;
  Hub& hub_;
  std::function<void()> gone_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool refresh_ = false;
  std::deque<Json> samples_;
  Json approvals_ = Json::array();
  std::thread watcher_;
  std::thread sampler_;
};

}  // namespace cb::ctl::ui
