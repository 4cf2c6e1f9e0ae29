/* The yardstick for the loader benchmark: a minimal, single-purpose C loop over JPEG files with no
 * framework around it. Per file: read it, draw a RandomResizedCrop box (scale 0.08-1, ratio 3/4-4/3)
 * and a flip, decode only the crop at the smallest DCT scale in {1/8, 1/4, 1/2, 1} that still has
 * SIZE pixels a side (jpeg_crop_scanline, jpeg_skip_scanlines, stop after the last row), resize with
 * plain 2-tap bilinear (no antialiasing) to SIZE x SIZE and write uint8 CHW, mirrored if drawn.
 * Threads split the file list evenly. Prints one JSON object.
 *
 * Usage: jpeg_loop LISTFILE THREADS [SIZE] [PASSES]   (LISTFILE: one path per line)
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jpeglib.h>

static char** paths;
static long count, passes = 1;
static int size = 224;

struct errors {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
};

static void on_error(j_common_ptr cinfo) { longjmp(((struct errors*)cinfo->err)->jump, 1); }
static void quiet(j_common_ptr cinfo, int level) { (void)cinfo, (void)level; }

static uint64_t next(uint64_t* s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static double uniform(uint64_t* s) { return (double)(next(s) >> 11) * 0x1.0p-53; }

struct worker {
  long first, last, images;
};

static void* work(void* arg) {
  struct worker* w = arg;
  size_t cap = 0, pcap = 0;
  unsigned char *file = NULL, *pixels = NULL;
  unsigned char* out = malloc((size_t)3 * size * size);
  for (long pass = 0; pass < passes; ++pass) {
    for (long i = w->first; i < w->last; ++i) {
      FILE* f = fopen(paths[i], "rb");
      if (!f) continue;
      fseek(f, 0, SEEK_END);
      long n = ftell(f);
      fseek(f, 0, SEEK_SET);
      if ((size_t)n > cap) file = realloc(file, cap = (size_t)n);
      size_t got = fread(file, 1, (size_t)n, f);
      fclose(f);

      struct jpeg_decompress_struct cinfo;
      struct errors err;
      cinfo.err = jpeg_std_error(&err.pub);
      err.pub.error_exit = on_error;
      err.pub.emit_message = quiet;
      jpeg_create_decompress(&cinfo);
      if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        continue;
      }
      jpeg_mem_src(&cinfo, file, (unsigned long)got);
      jpeg_read_header(&cinfo, TRUE);
      cinfo.out_color_space = JCS_RGB;
      int H = (int)cinfo.image_height, W = (int)cinfo.image_width;

      uint64_t s = (uint64_t)i * 7919 + (uint64_t)pass;
      int top = 0, left = 0, ch = H, cw = W, found = 0;
      for (int t = 0; t < 10 && !found; ++t) {
        double area = H * (double)W * (0.08 + 0.92 * uniform(&s));
        double ratio = exp(log(0.75) + (log(4.0 / 3.0) - log(0.75)) * uniform(&s));
        int ww = (int)lround(sqrt(area * ratio)), hh = (int)lround(sqrt(area / ratio));
        if (ww > 0 && ww <= W && hh > 0 && hh <= H) {
          ch = hh, cw = ww, top = (int)(next(&s) % (uint64_t)(H - hh + 1)), left = (int)(next(&s) % (uint64_t)(W - ww + 1));
          found = 1;
        }
      }
      int flip = (int)(next(&s) >> 63);

      int e = 8;
      for (int c = 1; c < 8; c *= 2)
        if (ch * c >= size * 8 && cw * c >= size * 8) {
          e = c;
          break;
        }
      cinfo.scale_num = (unsigned)e;
      cinfo.scale_denom = 8;
      jpeg_start_decompress(&cinfo);
      double sc = e / 8.0;
      JDIMENSION y0 = (JDIMENSION)(top * sc), y1 = (JDIMENSION)ceil((top + ch) * sc);
      if (y1 > cinfo.output_height) y1 = cinfo.output_height;
      JDIMENSION x0 = (JDIMENSION)(left * sc), xw = (JDIMENSION)ceil((left + cw) * sc) - x0;
      if (x0 + xw > cinfo.output_width) xw = cinfo.output_width - x0;
      JDIMENSION fx = x0;
      if (xw < cinfo.output_width) jpeg_crop_scanline(&cinfo, &fx, &xw);
      if (y0 > 0) jpeg_skip_scanlines(&cinfo, y0);
      size_t need = (size_t)(y1 - y0) * xw * 3;
      if (need > pcap) pixels = realloc(pixels, pcap = need);
      while (cinfo.output_scanline < y1) {
        JSAMPROW row = pixels + (size_t)(cinfo.output_scanline - y0) * xw * 3;
        jpeg_read_scanlines(&cinfo, &row, 1);
      }
      jpeg_abort_decompress(&cinfo);
      jpeg_destroy_decompress(&cinfo);

      /* The crop within the decoded rows, then 2-tap bilinear sampling at pixel centres. */
      double oy = top * sc - y0, ox = left * sc - fx, hy = ch * sc / size, hx = cw * sc / size;
      int rows = (int)(y1 - y0), cols = (int)xw;
      for (int y = 0; y < size; ++y) {
        double sy = oy + (y + 0.5) * hy - 0.5;
        if (sy < 0) sy = 0;
        int y_0 = (int)sy, y_1 = y_0 + 1 < rows ? y_0 + 1 : rows - 1;
        double fy = sy - y_0;
        for (int x = 0; x < size; ++x) {
          double sx = ox + (x + 0.5) * hx - 0.5;
          if (sx < 0) sx = 0;
          int x_0 = (int)sx, x_1 = x_0 + 1 < cols ? x_0 + 1 : cols - 1;
          double fx2 = sx - x_0;
          const unsigned char *a = pixels + ((size_t)y_0 * cols + x_0) * 3, *b = pixels + ((size_t)y_0 * cols + x_1) * 3;
          const unsigned char *c = pixels + ((size_t)y_1 * cols + x_0) * 3, *d = pixels + ((size_t)y_1 * cols + x_1) * 3;
          int at = flip ? size - 1 - x : x;
          for (int k = 0; k < 3; ++k) {
            double v = (a[k] * (1 - fx2) + b[k] * fx2) * (1 - fy) + (c[k] * (1 - fx2) + d[k] * fx2) * fy;
            out[((size_t)k * size + y) * size + at] = (unsigned char)(v + 0.5);
          }
        }
      }
      ++w->images;
    }
  }
  free(file);
  free(pixels);
  free(out);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: jpeg_loop LISTFILE THREADS [SIZE] [PASSES]\n");
    return 2;
  }
  int threads = atoi(argv[2]);
  if (argc > 3) size = atoi(argv[3]);
  if (argc > 4) passes = atol(argv[4]);
  FILE* list = fopen(argv[1], "r");
  if (!list) return 1;
  char line[4096];
  long cap = 0;
  while (fgets(line, sizeof line, list)) {
    line[strcspn(line, "\r\n")] = 0;
    if (!*line) continue;
    if (count == cap) paths = realloc(paths, sizeof(char*) * (size_t)(cap = cap ? 2 * cap : 1024));
    paths[count++] = strdup(line);
  }
  fclose(list);
  pthread_t ids[256];
  struct worker workers[256];
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int t = 0; t < threads; ++t) {
    workers[t] = (struct worker){count * t / threads, count * (t + 1) / threads, 0};
    pthread_create(&ids[t], NULL, work, &workers[t]);
  }
  long images = 0;
  for (int t = 0; t < threads; ++t) {
    pthread_join(ids[t], NULL);
    images += workers[t].images;
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
  printf("{\"images\": %ld, \"seconds\": %.6f, \"imagesPerSecond\": %.3f}\n", images, seconds, images / seconds);
  return 0;
}
