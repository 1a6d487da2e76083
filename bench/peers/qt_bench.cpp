// Qt's QSaveFile as a benchmark contender (same arguments as glib_bench; Qt has one level:
// it flushes the file before the rename, not the directory).
#include <QByteArray>
#include <QElapsedTimer>
#include <QSaveFile>
#include <QString>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: qt_bench LEVEL replace|create|big DIR COUNT SIZE MODE\n");
    return 2;
  }
  const char *workload = argv[2], *dir = argv[3];
  long count = std::atol(argv[4]);
  qint64 size = std::atoll(argv[5]);
  bool big = std::strcmp(workload, "big") == 0;
  QByteArray chunk(big ? (1 << 20) : static_cast<int>(size), 'x');
  if (big) count = 1;
  QElapsedTimer timer;
  timer.start();
  for (long i = 0; i < count; ++i) {
    QString name = std::strcmp(workload, "create") == 0 ? QString("f%1").arg(i) : QString("f");
    QSaveFile file(QString::fromLocal8Bit(dir) + "/" + name);
    if (!file.open(QIODevice::WriteOnly)) return 1;
    for (qint64 done = 0; done < (big ? size : 1); done += chunk.size())
      if (file.write(chunk) != chunk.size()) return 1;
    if (!file.commit()) return 1;
  }
  std::printf("%.6f\n", static_cast<double>(timer.nsecsElapsed()) / 1e9);
  return 0;
}
