#include "nn/data.h"

#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <set>
#include <sstream>

#include "core/csv.h"
#include "core/error.h"
#include "core/files.h"

namespace dojo::nn::data {

torch::Tensor read_idx(const std::filesystem::path& path) {
  if (!std::filesystem::is_regular_file(path)) throw Error("IDX file '" + path.string() + "' not found");
  // gzread reads plain files as they are, so one path serves both.
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) throw Error("cannot open IDX file '" + path.string() + "'");
  auto read = [&](void* dst, unsigned n) { return gzread(f, dst, n) == static_cast<int>(n); };
  unsigned char magic[4];
  if (!read(magic, 4) || magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] < 1 || magic[3] > 4) {
    gzclose(f);
    throw Error("'" + path.string() + "' is not an IDX file of unsigned bytes (bad magic number)");
  }
  std::vector<std::int64_t> shape;
  for (int d = 0; d < magic[3]; ++d) {
    unsigned char b[4];
    if (!read(b, 4)) {
      gzclose(f);
      throw Error("IDX file '" + path.string() + "' is truncated");
    }
    shape.push_back((std::int64_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3]);
  }
  auto t = torch::empty(shape, torch::kUInt8);
  const auto bytes = static_cast<unsigned>(t.numel());
  const bool ok = read(t.data_ptr<std::uint8_t>(), bytes);
  gzclose(f);
  if (!ok) throw Error("IDX file '" + path.string() + "' is truncated");
  return t;
}

ImageSplit load_fashion_mnist(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) {
    throw Error("Fashion-MNIST folder '" + dir.string() +
                "' not found (Debian package dataset-fashion-mnist; scripts/setup installs it)");
  }
  auto file = [&](const std::string& stem) {
    auto p = dir / (stem + ".gz");
    return std::filesystem::exists(p) ? p : dir / stem;
  };
  auto images = [](const torch::Tensor& t) { return t.to(torch::kFloat32).div_(255.0f).unsqueeze(-1); };
  ImageSplit s;
  s.train_x = images(read_idx(file("train-images-idx3-ubyte")));
  s.train_y = read_idx(file("train-labels-idx1-ubyte")).to(torch::kLong);
  s.test_x = images(read_idx(file("t10k-images-idx3-ubyte")));
  s.test_y = read_idx(file("t10k-labels-idx1-ubyte")).to(torch::kLong);
  if (s.train_x.size(0) != s.train_y.size(0) || s.test_x.size(0) != s.test_y.size(0)) {
    throw Error("Fashion-MNIST in '" + dir.string() + "': image and label counts differ");
  }
  s.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return s;
}

CsvData load_csv(const std::filesystem::path& path, const std::string& label_column, bool integer_labels) {
  auto table = core::read_csv(path);
  const auto it = std::find(table.header.begin(), table.header.end(), label_column);
  if (it == table.header.end()) {
    throw Error("CSV '" + path.string() + "' has no column '" + label_column + "'");
  }
  const auto label = static_cast<std::size_t>(it - table.header.begin());
  const auto n = static_cast<std::int64_t>(table.rows.size());
  const auto cols = static_cast<std::int64_t>(table.header.size()) - 1;
  CsvData d;
  d.x = torch::empty({n, cols});
  d.y = torch::empty({n}, torch::kFloat64);
  auto xa = d.x.accessor<float, 2>();
  auto ya = d.y.accessor<double, 1>();
  for (std::int64_t r = 0; r < n; ++r) {
    std::int64_t c = 0;
    for (std::size_t j = 0; j < table.header.size(); ++j) {
      const double v = table.rows[static_cast<std::size_t>(r)][j];
      if (j == label) {
        ya[r] = v;
      } else {
        xa[r][c++] = static_cast<float>(v);
      }
    }
  }
  d.y = integer_labels ? d.y.to(torch::kLong) : d.y.to(torch::kFloat32);
  for (std::size_t j = 0; j < table.header.size(); ++j) {
    if (j != label) d.columns.push_back(table.header[j]);
  }
  return d;
}

ImageFolder load_image_folder(const std::filesystem::path& dir, std::int64_t height, std::int64_t width,
                              std::int64_t channels) {
  if (!std::filesystem::is_directory(dir)) throw Error("image folder '" + dir.string() + "' not found");
  if (height <= 0 || width <= 0 || (channels != 1 && channels != 3)) {
    throw Error("image folder: expected a positive size and 1 or 3 channels");
  }
  ImageFolder out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_directory()) out.class_names.push_back(e.path().filename().string());
  }
  std::sort(out.class_names.begin(), out.class_names.end());
  if (out.class_names.empty()) throw Error("image folder '" + dir.string() + "' has no class subfolders");
  std::vector<torch::Tensor> images;
  std::vector<std::int64_t> labels;
  for (std::size_t c = 0; c < out.class_names.size(); ++c) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir / out.class_names[c])) {
      if (e.is_regular_file()) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      cv::Mat img = cv::imread(f.string(), channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
      if (img.empty()) throw Error("'" + f.string() + "' is not an image OpenCV can read");
      if (channels == 3) cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
      cv::resize(img, img, cv::Size(static_cast<int>(width), static_cast<int>(height)), 0, 0, cv::INTER_AREA);
      auto t = torch::from_blob(img.data, {height, width, channels}, torch::kUInt8).clone();
      images.push_back(t.to(torch::kFloat32).div_(255.0f));
      labels.push_back(static_cast<std::int64_t>(c));
    }
  }
  if (images.empty()) throw Error("image folder '" + dir.string() + "' holds no images");
  out.x = torch::stack(images);
  out.y = torch::tensor(labels, torch::kLong);
  return out;
}

Ratings load_movielens(const std::filesystem::path& path) {
  const auto text = core::read_text(path);
  const bool csv = path.extension() == ".csv";
  std::map<std::string, std::int64_t> users, items;
  std::vector<std::int64_t> u, i;
  std::vector<float> r;
  std::istringstream in(text);
  std::string line;
  for (std::int64_t line_no = 1; std::getline(in, line); ++line_no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (csv && line_no == 1)) continue;
    std::vector<std::string> fields;
    std::istringstream ls(line);
    for (std::string f; std::getline(ls, f, csv ? ',' : '\t');) fields.push_back(f);
    double rating = 0;
    try {
      if (fields.size() < 3) throw std::invalid_argument("fields");
      rating = std::stod(fields[2]);
    } catch (const std::exception&) {
      throw Error("'" + path.string() + "' line " + std::to_string(line_no) + ": expected user" +
                  (csv ? "," : "<tab>") + "item" + (csv ? "," : "<tab>") + "rating, got '" + line + "'");
    }
    u.push_back(users.emplace(fields[0], static_cast<std::int64_t>(users.size())).first->second);
    i.push_back(items.emplace(fields[1], static_cast<std::int64_t>(items.size())).first->second);
    r.push_back(static_cast<float>(rating));
  }
  if (r.empty()) throw Error("'" + path.string() + "' holds no ratings");
  Ratings out;
  out.user = torch::tensor(u, torch::kLong);
  out.item = torch::tensor(i, torch::kLong);
  out.rating = torch::tensor(r, torch::kFloat32);
  out.n_users = static_cast<std::int64_t>(users.size());
  out.n_items = static_cast<std::int64_t>(items.size());
  return out;
}

void write_synthetic_movielens(const std::filesystem::path& path, SyntheticRatingsOptions o) {
  if (o.users <= 0 || o.items <= 0 || o.ratings <= 0 || o.rank <= 0) {
    throw Error("synthetic ratings: users, items, ratings and rank must be positive");
  }
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  auto factors = [&](std::int64_t n) {
    std::vector<std::vector<double>> f(static_cast<std::size_t>(n),
                                       std::vector<double>(static_cast<std::size_t>(o.rank)));
    for (auto& row : f) {
      for (auto& v : row) v = normal(rng) / std::sqrt(static_cast<double>(o.rank));
    }
    return f;
  };
  const auto uf = factors(o.users), vf = factors(o.items);
  std::vector<double> ub(static_cast<std::size_t>(o.users)), vb(static_cast<std::size_t>(o.items));
  for (auto& b : ub) b = 0.4 * normal(rng);
  for (auto& b : vb) b = 0.4 * normal(rng);
  std::uniform_int_distribution<std::int64_t> pick_user(0, o.users - 1), pick_item(0, o.items - 1);
  std::set<std::pair<std::int64_t, std::int64_t>> seen;
  std::ostringstream out;
  const auto max_ratings = std::min(o.ratings, o.users * o.items);
  for (std::int64_t t = 0; static_cast<std::int64_t>(seen.size()) < max_ratings; ++t) {
    const auto a = pick_user(rng), b = pick_item(rng);
    if (!seen.emplace(a, b).second) continue;
    double dot = 0;
    for (std::int64_t k = 0; k < o.rank; ++k)
      dot += uf[static_cast<std::size_t>(a)][static_cast<std::size_t>(k)] *
             vf[static_cast<std::size_t>(b)][static_cast<std::size_t>(k)];
    const double score = 3.5 + ub[static_cast<std::size_t>(a)] + vb[static_cast<std::size_t>(b)] + 1.5 * dot +
                         o.noise * normal(rng);
    const int stars = static_cast<int>(std::clamp(std::round(score), 1.0, 5.0));
    out << a + 1 << '\t' << b + 1 << '\t' << stars << '\t' << 874'724'710 + t << '\n';
  }
  core::atomic_write_text(path, out.str());
}

torch::Tensor random_flip(const torch::Tensor& images, double p) {
  auto flip = torch::rand({images.size(0)}) < p;
  return torch::where(flip.view({-1, 1, 1, 1}), images.flip(2), images);
}

torch::Tensor random_shift(const torch::Tensor& images, std::int64_t max_shift) {
  if (max_shift <= 0) return images;
  const auto n = images.size(0), h = images.size(1), w = images.size(2);
  auto padded = torch::constant_pad_nd(images, {0, 0, max_shift, max_shift, max_shift, max_shift}, 0.0);
  auto dy = torch::randint(0, 2 * max_shift + 1, {n}, torch::kLong);
  auto dx = torch::randint(0, 2 * max_shift + 1, {n}, torch::kLong);
  std::vector<torch::Tensor> out;
  out.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const auto y0 = dy[i].item<std::int64_t>(), x0 = dx[i].item<std::int64_t>();
    out.push_back(padded[i].slice(0, y0, y0 + h).slice(1, x0, x0 + w));
  }
  return torch::stack(out);
}

}  // namespace dojo::nn::data
