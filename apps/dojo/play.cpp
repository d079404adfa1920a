#include "play.h"

#include <fmt/format.h>
#include <poll.h>
#include <termios.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include "core/error.h"
#include "core/gif.h"
#include "envs/registry.h"
#include "envs/toy_text/toy_text.h"
#include "games/game.h"

namespace dojo::app {

namespace {

// Raw, non-blocking keyboard input for as long as it lives; the terminal is restored on the way out.
class RawTerminal {
 public:
  RawTerminal() {
    tcgetattr(STDIN_FILENO, &saved_);
    termios raw = saved_;
    raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    std::cout << "\x1b[?25l\x1b[2J";  // hide the cursor, clear
  }
  ~RawTerminal() {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    std::cout << "\x1b[0m\x1b[?25h" << std::flush;
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  termios saved_{};
};

enum class Key { None, Left, Right, Up, Down, Fire, Noop, Quit, Digit };
struct Press {
  Key key = Key::None;
  int digit = 0;
};

// Decodes one key from bytes (arrow keys arrive as ESC [ A..D); returns the bytes used.
std::size_t decode(const std::string& s, std::size_t i, Press& out) {
  const char c = s[i];
  if (c == '\x1b' && i + 2 < s.size() && s[i + 1] == '[') {
    const char d = s[i + 2];
    out.key = d == 'A'   ? Key::Up
              : d == 'B' ? Key::Down
              : d == 'C' ? Key::Right
              : d == 'D' ? Key::Left
                         : Key::None;
    return 3;
  }
  switch (std::tolower(static_cast<unsigned char>(c))) {
    case 'a':
    case 'h':
      out.key = Key::Left;
      break;
    case 'd':
    case 'l':
      out.key = Key::Right;
      break;
    case 'w':
    case 'k':
      out.key = Key::Up;
      break;
    case 's':
    case 'j':
      out.key = Key::Down;
      break;
    case ' ':
    case 'f':
      out.key = Key::Fire;
      break;
    case '.':
      out.key = Key::Noop;
      break;
    case 'q':
      out.key = Key::Quit;
      break;
    default:
      if (c >= '0' && c <= '9') {
        out.key = Key::Digit;
        out.digit = c - '0';
      } else {
        out.key = Key::None;
      }
  }
  return 1;
}

// Turns keys into action indices: by the env's action meanings when it names them; otherwise left
// is the first action, right the last and no key the middle one (MountainCar's and Acrobot's "do
// nothing"), or the previous action when there is no middle (CartPole has no no-op).
class Controls {
 public:
  Controls(std::vector<std::string> meanings, std::int64_t n) : meanings_(std::move(meanings)), n_(n) {}
  std::int64_t action(Press p) {
    std::optional<std::int64_t> a;
    if (p.key == Key::Digit) {
      if (p.digit < n_) a = p.digit;
    } else if (!meanings_.empty()) {
      a = named(p.key == Key::Left    ? "LEFT"
                : p.key == Key::Right ? "RIGHT"
                : p.key == Key::Up    ? "UP"
                : p.key == Key::Down  ? "DOWN"
                : p.key == Key::Fire  ? "FIRE"
                                      : "NOOP");
      // A car's pedals: up is the gas, down the brake (CarRacing's discrete actions).
      if (!a && p.key == Key::Up) a = named("GAS");
      if (!a && p.key == Key::Down) a = named("BRAKE");
      if (!a) a = named("NOOP");
    } else if (p.key == Key::Left) {
      a = 0;
    } else if (p.key == Key::Right) {
      a = n_ - 1;
    } else if (n_ % 2 == 1) {
      a = n_ / 2;
    }
    last_ = a.value_or(last_);
    return last_;
  }

 private:
  std::optional<std::int64_t> named(const std::string& m) const {
    const auto it = std::find(meanings_.begin(), meanings_.end(), m);
    if (it == meanings_.end()) return std::nullopt;
    return it - meanings_.begin();
  }
  std::vector<std::string> meanings_;
  std::int64_t n_, last_ = 0;
};

// An [H, W, 3] frame as rows of "▀" whose upper and lower halves are two pixel rows, scaled down to
// fit about 80 columns and 30 lines.
void draw(const torch::Tensor& frame, const std::string& status) {
  const auto h = frame.size(0), w = frame.size(1);
  const auto step = std::max<std::int64_t>(
      1, static_cast<std::int64_t>(
             std::ceil(std::max(static_cast<double>(w) / 80.0, static_cast<double>(h) / 60.0))));
  const auto f = frame.contiguous();
  const auto* p = f.data_ptr<std::uint8_t>();
  auto px = [&](std::int64_t y, std::int64_t x) { return p + 3 * (y * w + x); };
  std::string out = "\x1b[H";
  for (std::int64_t y = 0; y + step < h; y += 2 * step) {
    for (std::int64_t x = 0; x < w; x += step) {
      const auto* top = px(y, x);
      const auto* bottom = px(std::min(y + step, h - 1), x);
      out += fmt::format("\x1b[38;2;{};{};{}m\x1b[48;2;{};{};{}m\u2580", top[0], top[1], top[2], bottom[0],
                         bottom[1], bottom[2]);
    }
    out += "\x1b[0m\n";
  }
  out += status + "\x1b[K\n";
  std::cout << out << std::flush;
}

void draw_text(const torch::Tensor& obs, const std::string& status) {
  const auto v = obs.to(torch::kDouble).reshape({-1});
  std::string line = "\x1b[Hobs:";
  for (std::int64_t i = 0; i < std::min<std::int64_t>(v.numel(), 16); ++i) {
    line += fmt::format(" {:.3f}", v[i].item<double>());
  }
  std::cout << line << "\x1b[K\n" << status << "\x1b[K\n" << std::flush;
}

}  // namespace

core::Config env_kwargs(const std::vector<std::string>& assignments) {
  core::Config kwargs;
  for (const auto& a : assignments) {
    if (a.find('=') == std::string::npos || a.front() == '=')
      throw Error("--kwarg '" + a + "': expected KEY=VALUE");
    kwargs.set(a);
  }
  return kwargs;
}

int play(const PlayOptions& o) {
  const auto games = games::game_names();
  if (std::find(games.begin(), games.end(), o.env_id) != games.end()) return play_board_game(o);
  // Keys pick discrete actions: an env with continuous controls is played through its discrete twin.
  const auto id = o.env_id == "CarRacing-v2" ? std::string("CarRacingDiscrete-v2") : o.env_id;
  auto env = envs::make(id, {.kwargs = env_kwargs(o.kwargs)});
  const auto* discrete = std::get_if<envs::Discrete>(&env->action_space());
  if (!discrete) {
    throw Error("dojo play: " + id + " has a " + envs::to_string(env->action_space()) +
                " action space; expected Discrete (keys pick actions)");
  }
  if (!(o.fps > 0)) throw Error(fmt::format("--fps {:g}: expected > 0", o.fps));
  Controls controls(env->action_meanings(), discrete->n);
  const bool terminal = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  std::optional<RawTerminal> raw;
  if (terminal) raw.emplace();

  std::string pending;  // piped keys not yet used
  bool quit = false;
  // The key for the next step: at a terminal the last one pressed during the tick, otherwise the next
  // one in the input.
  auto next_key = [&]() -> Press {
    Press last;
    if (terminal) {
      char buf[64];
      for (ssize_t n; (n = read(STDIN_FILENO, buf, sizeof buf)) > 0;)
        pending.append(buf, static_cast<std::size_t>(n));
      for (std::size_t i = 0; i < pending.size();) {
        Press p;
        i += decode(pending, i, p);
        if (p.key != Key::None) last = p;
        if (p.key == Key::Quit) break;
      }
      pending.clear();
      return last;
    }
    for (;;) {
      if (pending.empty()) {
        char buf[256];
        const auto n = read(STDIN_FILENO, buf, sizeof buf);
        if (n <= 0) return {Key::Quit, 0};  // end of input
        pending.assign(buf, static_cast<std::size_t>(n));
      }
      Press p;
      const auto used = decode(pending, 0, p);
      pending.erase(0, used);
      if (p.key != Key::None) return p;
    }
  };

  if (!o.record.empty()) std::filesystem::create_directories(o.record);
  // What --record keeps of each step: the observation when it is a picture (CarRacing's 96 x 96), else
  // the rendered frame.
  const auto frame_of = [&](const torch::Tensor& obs) {
    if (obs.dim() == 3 && obs.size(2) == 3 && obs.dtype() == torch::kUInt8) return obs;
    return env->render();
  };
  std::vector<torch::Tensor> frames;

  const auto tick = std::chrono::duration<double>(1.0 / o.fps);
  const bool turn_based = !envs::render_text(*env).empty();
  for (std::int64_t e = 0; e < o.episodes && !quit; ++e) {
    auto obs = env->reset(o.seed + static_cast<std::uint64_t>(e)).obs;
    frames.clear();
    if (!o.record.empty()) frames.push_back(frame_of(obs));
    double ret = 0.0;
    std::int64_t steps = 0;
    const auto help = "arrows/WASD move, space fires, q quits";
    auto show = [&] {
      if (!terminal) return;
      const auto status =
          fmt::format("{}  episode {}  step {}  return {:g}   ({})", o.env_id, e, steps, ret, help);
      // The toy-text envs draw themselves as text (Gymnasium's ansi mode).
      if (const auto text = envs::render_text(*env); !text.empty()) {
        std::cout << "\x1b[H\x1b[J" << text << status << "\n" << std::flush;
        return;
      }
      const auto frame = env->render();
      if (frame.defined())
        draw(frame, status);
      else
        draw_text(obs, status);
    };
    show();
    for (bool done = false; !done;) {
      const auto start = std::chrono::steady_clock::now();
      if (terminal) std::this_thread::sleep_until(start + tick);
      const auto press = next_key();
      if (press.key == Key::Quit) {
        quit = true;
        break;
      }
      // A turn-based toy-text game waits for a key rather than repeating the last move each tick.
      if (turn_based && press.key == Key::None) continue;
      const auto s = env->step(controls.action(press));
      ret += s.reward;
      ++steps;
      obs = s.obs;
      done = s.done();
      if (!o.record.empty()) frames.push_back(frame_of(obs));
      show();
    }
    if (!o.record.empty() && frames.size() > 1 && frames.front().defined()) {
      const auto gif = std::filesystem::path(o.record) / fmt::format("episode_{:03d}.gif", e);
      core::save_gif(gif, frames, static_cast<int>(std::lround(100.0 / o.fps)));
      std::cout << "recorded " << gif.string() << "\n";
    }
    if (!quit || steps > 0) {
      std::cout << fmt::format("episode {}: return {:g} in {} steps{}\n", e, ret, steps,
                               quit ? " (quit)" : "");
    }
  }
  return 0;
}

}  // namespace dojo::app
