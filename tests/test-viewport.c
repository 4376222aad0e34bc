/* test-viewport.c: the graph view's camera, without a display
 *
 * Anchored zoom keeps the graph point under the pointer where it is; an anchored
 * drag keeps the grabbed point under the pointer; screen → graph → screen round-
 * trips; fit, centre, ensure-visible and the animated interpolation do what they
 * say.
 */

#include <math.h>

#include "viewport.h"

#define EPS 1e-9

static void
assert_screen_point (const Viewport *vp,
                     double          gx,
                     double          gy,
                     double          sx,
                     double          sy)
{
  double x, y;

  viewport_graph_to_screen (vp, gx, gy, &x, &y);
  g_assert_cmpfloat_with_epsilon (x, sx, 1e-7);
  g_assert_cmpfloat_with_epsilon (y, sy, 1e-7);
}

static void
test_round_trip (void)
{
  GRand *rand = g_rand_new_with_seed (1);
  Viewport vp;

  viewport_init (&vp, 800, 600);
  for (int k = 0; k < 1000; k++)
    {
      double sx = g_rand_double_range (rand, -100, 900);
      double sy = g_rand_double_range (rand, -100, 700);
      double gx, gy, x, y;

      viewport_zoom_at (&vp, exp (g_rand_double_range (rand, log (0.05), log (8))),
                        g_rand_double_range (rand, 0, 800), g_rand_double_range (rand, 0, 600));
      viewport_scroll (&vp, g_rand_double_range (rand, -500, 500),
                       g_rand_double_range (rand, -500, 500));

      viewport_screen_to_graph (&vp, sx, sy, &gx, &gy);
      viewport_graph_to_screen (&vp, gx, gy, &x, &y);
      g_assert_cmpfloat_with_epsilon (x, sx, 1e-6);
      g_assert_cmpfloat_with_epsilon (y, sy, 1e-6);

      /* And graph → screen → graph. */
      viewport_graph_to_screen (&vp, sx * 3, sy * 2, &x, &y);
      viewport_screen_to_graph (&vp, x, y, &gx, &gy);
      g_assert_cmpfloat_with_epsilon (gx, sx * 3, 1e-6);
      g_assert_cmpfloat_with_epsilon (gy, sy * 2, 1e-6);
    }
  g_rand_free (rand);
}

static void
test_identity (void)
{
  Viewport vp;

  /* A fresh camera shows the graph at 100 %, its origin at the top-left corner. */
  viewport_init (&vp, 640, 480);
  g_assert_cmpfloat (vp.zoom, ==, 1.0);
  assert_screen_point (&vp, 0, 0, 0, 0);
  assert_screen_point (&vp, 100, 50, 100, 50);
}

static void
test_zoom_anchored (void)
{
  GRand *rand = g_rand_new_with_seed (2);
  Viewport vp;

  viewport_init (&vp, 1024, 768);
  viewport_scroll (&vp, 300, -120);
  for (int k = 0; k < 1000; k++)
    {
      double sx = g_rand_double_range (rand, 0, 1024);
      double sy = g_rand_double_range (rand, 0, 768);
      double gx, gy, zoom = vp.zoom * exp (g_rand_double_range (rand, -1, 1));

      viewport_screen_to_graph (&vp, sx, sy, &gx, &gy);
      viewport_zoom_at (&vp, zoom, sx, sy);
      /* The point under the pointer did not move. */
      assert_screen_point (&vp, gx, gy, sx, sy);
      g_assert_cmpfloat (vp.zoom, >=, vp.min_zoom);
      g_assert_cmpfloat (vp.zoom, <=, vp.max_zoom);
    }

  /* Clamped at the limits, still anchored; nonsense zooms change nothing. */
  {
    double gx, gy, before;

    viewport_screen_to_graph (&vp, 10, 20, &gx, &gy);
    viewport_zoom_at (&vp, 1e6, 10, 20);
    g_assert_cmpfloat (vp.zoom, ==, VIEWPORT_MAX_ZOOM);
    assert_screen_point (&vp, gx, gy, 10, 20);
    viewport_zoom_at (&vp, 1e-6, 10, 20);
    g_assert_cmpfloat (vp.zoom, ==, VIEWPORT_MIN_ZOOM);
    assert_screen_point (&vp, gx, gy, 10, 20);
    before = vp.zoom;
    viewport_zoom_at (&vp, NAN, 10, 20);
    viewport_zoom_at (&vp, -2, 10, 20);
    viewport_zoom_at (&vp, 0, 10, 20);
    g_assert_cmpfloat (vp.zoom, ==, before);
    assert_screen_point (&vp, gx, gy, 10, 20);
  }
  g_rand_free (rand);
}

/* A pinch or a drag: the graph point grabbed at the start stays under the
 * pointer however the gesture moves, computed from the start each time. */
static void
test_drag_anchored (void)
{
  Viewport vp;
  double gx, gy;
  const double start_x = 200, start_y = 150;

  viewport_init (&vp, 800, 600);
  viewport_zoom_at (&vp, 1.7, 400, 300);
  viewport_screen_to_graph (&vp, start_x, start_y, &gx, &gy);

  for (int k = 1; k <= 50; k++)
    {
      double x = start_x + 7.3 * k, y = start_y - 3.1 * k;

      viewport_anchor (&vp, gx, gy, x, y);
      assert_screen_point (&vp, gx, gy, x, y);
    }
  /* Back to the start: exactly where it began, no drift. */
  viewport_anchor (&vp, gx, gy, start_x, start_y);
  assert_screen_point (&vp, gx, gy, start_x, start_y);
}

static void
test_scroll (void)
{
  Viewport vp;
  double gx, gy;

  viewport_init (&vp, 800, 600);
  viewport_zoom_at (&vp, 2.0, 0, 0);
  viewport_screen_to_graph (&vp, 100, 100, &gx, &gy);
  viewport_scroll (&vp, 30, -40);
  /* The content moved 30 px left and 40 px down. */
  assert_screen_point (&vp, gx, gy, 70, 140);
}

static void
test_fit (void)
{
  Viewport vp;
  GraphRect rect = { 100, -50, 1200, 9500 };  /* tall, like resnet18 */
  GraphRect visible;
  double sx, sy;

  viewport_init (&vp, 800, 600);
  viewport_fit (&vp, &rect, 20, 1.0);
  /* It all shows, with the margin, centred. */
  viewport_get_visible (&vp, &visible);
  g_assert_cmpfloat (visible.x, <=, rect.x + EPS);
  g_assert_cmpfloat (visible.y, <=, rect.y + EPS);
  g_assert_cmpfloat (visible.x + visible.width, >=, rect.x + rect.width - EPS);
  g_assert_cmpfloat (visible.y + visible.height, >=, rect.y + rect.height - EPS);
  g_assert_cmpfloat_with_epsilon (vp.zoom, (600.0 - 40) / 9500, 1e-12);
  viewport_graph_to_screen (&vp, rect.x + rect.width / 2, rect.y + rect.height / 2, &sx, &sy);
  g_assert_cmpfloat_with_epsilon (sx, 400, 1e-9);
  g_assert_cmpfloat_with_epsilon (sy, 300, 1e-9);
  viewport_graph_to_screen (&vp, rect.x, rect.y, &sx, &sy);
  g_assert_cmpfloat_with_epsilon (sy, 20, 1e-9);

  /* A small graph is not blown up past max_zoom. */
  rect = (GraphRect) { 0, 0, 100, 50 };
  viewport_fit (&vp, &rect, 20, 1.0);
  g_assert_cmpfloat (vp.zoom, ==, 1.0);
  assert_screen_point (&vp, 50, 25, 400, 300);
}

static void
test_set_size (void)
{
  Viewport vp;
  double gx, gy;

  viewport_init (&vp, 800, 600);
  viewport_zoom_at (&vp, 0.5, 123, 45);
  viewport_screen_to_graph (&vp, 400, 300, &gx, &gy);
  viewport_set_size (&vp, 1000, 200);
  /* What was in the middle stays in the middle. */
  assert_screen_point (&vp, gx, gy, 500, 100);
  g_assert_cmpfloat (vp.zoom, ==, 0.5);
}

static void
test_ensure_visible (void)
{
  Viewport vp, before;
  GraphRect node = { 1000, 2000, 150, 40 }, visible;

  viewport_init (&vp, 800, 600);
  g_assert_true (viewport_ensure_visible (&vp, &node, 30));
  viewport_get_visible (&vp, &visible);
  g_assert_true (graph_rect_contains (&visible, node.x - 30 + EPS, node.y - 30 + EPS));
  g_assert_true (graph_rect_contains (&visible, node.x + node.width + 30 - EPS,
                                      node.y + node.height + 30 - EPS));
  /* It moved as little as possible: the node sits at the bottom-right margin. */
  assert_screen_point (&vp, node.x + node.width, node.y + node.height, 800 - 30, 600 - 30);

  /* Already visible: nothing moves. */
  before = vp;
  g_assert_false (viewport_ensure_visible (&vp, &node, 30));
  g_assert_cmpfloat (vp.origin_x, ==, before.origin_x);
  g_assert_cmpfloat (vp.origin_y, ==, before.origin_y);

  /* Larger than the view: centred on it. */
  node = (GraphRect) { 0, 0, 5000, 10 };
  g_assert_true (viewport_ensure_visible (&vp, &node, 30));
  {
    double sx, sy;

    viewport_graph_to_screen (&vp, 2500, 5, &sx, &sy);
    g_assert_cmpfloat_with_epsilon (sx, 400, 1e-9);
    g_assert_cmpfloat (sy, >=, 30 + 5 - EPS);
    g_assert_cmpfloat (sy, <=, 600 - 30 - 5 + EPS);
  }
}

static void
test_interpolate (void)
{
  Viewport a, b, mid, out;
  double ax, ay, bx, by, mx, my;

  viewport_init (&a, 800, 600);
  viewport_init (&b, 800, 600);
  viewport_zoom_at (&a, 0.25, 100, 100);
  viewport_zoom_at (&b, 4.0, 700, 500);
  viewport_scroll (&b, 1000, 2000);

  viewport_interpolate (&out, &a, &b, 0);
  g_assert_cmpfloat_with_epsilon (out.zoom, a.zoom, EPS);
  g_assert_cmpfloat_with_epsilon (out.origin_x, a.origin_x, 1e-7);
  g_assert_cmpfloat_with_epsilon (out.origin_y, a.origin_y, 1e-7);
  viewport_interpolate (&out, &a, &b, 1);
  g_assert_cmpfloat_with_epsilon (out.zoom, b.zoom, EPS);
  g_assert_cmpfloat_with_epsilon (out.origin_x, b.origin_x, 1e-7);
  g_assert_cmpfloat_with_epsilon (out.origin_y, b.origin_y, 1e-7);

  /* Half way: the geometric mean of the zooms, the centre half way. */
  viewport_interpolate (&mid, &a, &b, 0.5);
  g_assert_cmpfloat_with_epsilon (mid.zoom, 1.0, 1e-12);
  viewport_screen_to_graph (&a, 400, 300, &ax, &ay);
  viewport_screen_to_graph (&b, 400, 300, &bx, &by);
  viewport_screen_to_graph (&mid, 400, 300, &mx, &my);
  g_assert_cmpfloat_with_epsilon (mx, (ax + bx) / 2, 1e-7);
  g_assert_cmpfloat_with_epsilon (my, (ay + by) / 2, 1e-7);
}

static void
test_rects (void)
{
  GraphRect a = { 0, 0, 10, 10 }, b = { 5, 5, 10, 10 }, c = { 10.5, 0, 1, 1 };

  g_assert_true (graph_rect_intersects (&a, &b));
  g_assert_true (graph_rect_intersects (&b, &a));
  g_assert_false (graph_rect_intersects (&a, &c));
  g_assert_true (graph_rect_contains (&a, 10, 10));
  g_assert_false (graph_rect_contains (&a, 10.01, 5));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ui/viewport/identity", test_identity);
  g_test_add_func ("/ui/viewport/round-trip", test_round_trip);
  g_test_add_func ("/ui/viewport/zoom-anchored", test_zoom_anchored);
  g_test_add_func ("/ui/viewport/drag-anchored", test_drag_anchored);
  g_test_add_func ("/ui/viewport/scroll", test_scroll);
  g_test_add_func ("/ui/viewport/fit", test_fit);
  g_test_add_func ("/ui/viewport/set-size", test_set_size);
  g_test_add_func ("/ui/viewport/ensure-visible", test_ensure_visible);
  g_test_add_func ("/ui/viewport/interpolate", test_interpolate);
  g_test_add_func ("/ui/viewport/rects", test_rects);

  return g_test_run ();
}
