/* pth-zip.c — a strict reader of the zip archives torch.save writes.
 *
 * End of central directory (ZIP64 too) → central directory → local headers; every
 * offset and length is checked against the file before it is used. Entries must
 * be stored (torch.save never compresses) and unencrypted; an entry's CRC-32 is
 * checked the first time it is read.
 */
#include "pth-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * CRC-32 (zip's: reflected polynomial 0xEDB88320), slicing by eight bytes:
 * table[t][b] is the CRC of byte b followed by t zero bytes. */

static guint32 crc_table[8][256];

static void
crc_init (void)
{
  static gsize done = 0;
  if (!g_once_init_enter (&done))
    return;
  for (guint32 i = 0; i < 256; i++)
    {
      guint32 c = i;
      for (int k = 0; k < 8; k++)
        c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      crc_table[0][i] = c;
    }
  for (guint32 i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++)
      crc_table[t][i] = crc_table[0][crc_table[t - 1][i] & 0xff] ^ (crc_table[t - 1][i] >> 8);
  g_once_init_leave (&done, 1);
}

static guint32
crc32_of (const guint8 *p, gsize n)
{
  guint32 c = 0xffffffffu;
  crc_init ();
  for (; n >= 8; p += 8, n -= 8)
    {
      guint32 lo = c ^ rd32 (p), hi = rd32 (p + 4);
      c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff]
          ^ crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24]
          ^ crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff]
          ^ crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
    }
  for (; n > 0; p++, n--)
    c = crc_table[0][(c ^ *p) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

/* ---------------------------------------------------------------------------
 * Zip: just enough to read torch.save's archives, strictly. */

#define ZIP_EOCD_SIG      0x06054b50u
#define ZIP64_LOCATOR_SIG 0x07064b50u
#define ZIP64_EOCD_SIG    0x06064b50u
#define ZIP_CENTRAL_SIG   0x02014b50u
#define ZIP_LOCAL_SIG     0x04034b50u

void
pth_zip_clear (Zip *zip)
{
  g_clear_pointer (&zip->entries, g_hash_table_unref);
  g_clear_pointer (&zip->names, g_ptr_array_unref);
}

/* The ZIP64 extended information field of a central directory entry replaces
 * those of usize, csize and offset that are 0xffffffff, in that order. */
static gboolean
zip64_extra (const guint8 *x, guint32 n, guint64 *usize, guint64 *csize, guint64 *offset)
{
  while (n >= 4)
    {
      guint32 id = rd16 (x), len = rd16 (x + 2);
      if (len > n - 4)
        return FALSE;
      if (id == 0x0001)
        {
          guint64 *fields[3] = { usize, csize, offset };
          guint32 at = 0;
          for (int i = 0; i < 3; i++)
            if (*fields[i] == 0xffffffffu)
              {
                if (len - at < 8)
                  return FALSE;
                *fields[i] = rd64 (x + 4 + at);
                at += 8;
              }
        }
      x += 4 + len;
      n -= 4 + len;
    }
  return n == 0;
}

gboolean
pth_zip_open (Zip *zip, const guint8 *data, gsize size, const char *file, GError **error)
{
  if (size < 22)
    {
      FORMAT_ERROR (file, NULL, _("the file is too short to be a zip archive (%zu bytes)"), size);
      return FALSE;
    }

  /* End of central directory: the last 22 bytes, unless a comment follows. */
  gsize eocd = G_MAXSIZE;
  gsize lowest = size - 22 > 0xffff ? size - 22 - 0xffff : 0;
  for (gsize p = size - 22 + 1; p-- > lowest;)
    if (rd32 (data + p) == ZIP_EOCD_SIG && p + 22 + rd16 (data + p + 20) == size)
      {
        eocd = p;
        break;
      }
  if (eocd == G_MAXSIZE)
    {
      FORMAT_ERROR (file, NULL, _("not a zip archive (no end of central directory): "
                                  "truncated, or not written by torch.save"));
      return FALSE;
    }

  const guint8 *e = data + eocd;
  guint64 disk = rd16 (e + 4), cd_disk = rd16 (e + 6);
  guint64 n_here = rd16 (e + 8), n = rd16 (e + 10);
  guint64 cd_size = rd32 (e + 12), cd_off = rd32 (e + 16);
  guint64 cd_limit = eocd;      /* the central directory ends before this */

  if (n == 0xffff || cd_size == 0xffffffffu || cd_off == 0xffffffffu)
    {
      if (eocd < 20 || rd32 (e - 20) != ZIP64_LOCATOR_SIG)
        {
          FORMAT_ERROR (file, NULL, _("broken zip archive: ZIP64 end of central directory missing"));
          return FALSE;
        }
      guint64 z = rd64 (e - 20 + 8);
      if (rd32 (e - 20 + 4) != 0 || rd32 (e - 20 + 16) > 1 || z > eocd - 20
          || eocd - 20 - z < 56 || rd32 (data + z) != ZIP64_EOCD_SIG)
        {
          FORMAT_ERROR (file, NULL, _("broken zip archive: bad ZIP64 end of central directory"));
          return FALSE;
        }
      disk = rd32 (data + z + 16);
      cd_disk = rd32 (data + z + 20);
      n_here = rd64 (data + z + 24);
      n = rd64 (data + z + 32);
      cd_size = rd64 (data + z + 40);
      cd_off = rd64 (data + z + 48);
      cd_limit = z;
    }

  if (disk != 0 || cd_disk != 0 || n_here != n)
    {
      FORMAT_ERROR (file, NULL, _("a multi-part zip archive"));
      return FALSE;
    }
  if (cd_off > cd_limit || cd_size > cd_limit - cd_off || n > cd_size / 46)
    {
      FORMAT_ERROR (file, NULL, _("broken zip archive: the central directory (%llu entries, "
                                  "%llu bytes at %llu) does not fit in the file"),
                    (unsigned long long) n, (unsigned long long) cd_size,
                    (unsigned long long) cd_off);
      return FALSE;
    }

  zip->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  zip->names = g_ptr_array_new ();

  const guint8 *cd = data + cd_off;
  guint64 at = 0;
  for (guint64 i = 0; i < n; i++)
    {
      if (cd_size - at < 46 || rd32 (cd + at) != ZIP_CENTRAL_SIG)
        {
          FORMAT_ERROR (file, NULL, _("broken zip archive: central directory entry %llu is "
                                      "damaged"), (unsigned long long) i);
          return FALSE;
        }
      const guint8 *c = cd + at;
      guint32 flags = rd16 (c + 8), method = rd16 (c + 10), crc = rd32 (c + 16);
      guint64 csize = rd32 (c + 20), usize = rd32 (c + 24);
      guint32 nl = rd16 (c + 28), xl = rd16 (c + 30), cl = rd16 (c + 32);
      guint64 lho = rd32 (c + 42);
      if ((guint64) 46 + nl + xl + cl > cd_size - at)
        {
          FORMAT_ERROR (file, NULL, _("broken zip archive: central directory entry %llu "
                                      "overruns the directory"), (unsigned long long) i);
          return FALSE;
        }
      const guint8 *name = c + 46;
      if (nl == 0 || memchr (name, 0, nl) != NULL || !g_utf8_validate ((const char *) name, nl, NULL))
        {
          FORMAT_ERROR (file, NULL, _("broken zip archive: entry %llu has an invalid name"),
                        (unsigned long long) i);
          return FALSE;
        }
      g_autofree char *entry_name = g_strndup ((const char *) name, nl);
      if (!zip64_extra (name + nl, xl, &usize, &csize, &lho))
        {
          FORMAT_ERROR (file, NULL, _("broken zip archive: bad extra field in entry “%s”"), entry_name);
          return FALSE;
        }
      if (flags & 1)
        {
          FORMAT_ERROR (file, NULL, _("zip entry “%s” is encrypted"), entry_name);
          return FALSE;
        }
      if (method != 0 || csize != usize)
        {
          FORMAT_ERROR (file, NULL, _("zip entry “%s” is compressed (method %u); torch.save stores "
                          "its entries uncompressed"), entry_name, method);
          return FALSE;
        }
      /* The local header repeats the name; its extra field (torch pads data to
       * 64 bytes there) may differ from the central one. Sizes are taken from
       * the central directory: torch.save writes them after the data. */
      if (lho > cd_off || cd_off - lho < 30 || rd32 (data + lho) != ZIP_LOCAL_SIG)
        {
          FORMAT_ERROR (file, NULL, _("broken zip archive: local header of “%s” is missing"),
                        entry_name);
          return FALSE;
        }
      const guint8 *l = data + lho;
      guint64 data_off = lho + 30 + rd16 (l + 26) + rd16 (l + 28);
      if (rd16 (l + 26) != nl || memcmp (l + 30, name, nl) != 0 || rd16 (l + 8) != 0
          || data_off > cd_off || usize > cd_off - data_off)
        {
          FORMAT_ERROR (file, NULL, _("broken zip archive: entry “%s” does not fit in the file "
                          "(%llu bytes at %llu)"),
                        entry_name, (unsigned long long) usize, (unsigned long long) data_off);
          return FALSE;
        }
      if (g_hash_table_contains (zip->entries, entry_name))
        {
          FORMAT_ERROR (file, NULL, _("zip entry “%s” appears twice"), entry_name);
          return FALSE;
        }
      ZipEntry *ze = g_new0 (ZipEntry, 1);
      ze->data = data + data_off;
      ze->size = usize;
      ze->crc = crc;
      g_ptr_array_add (zip->names, entry_name);
      g_hash_table_insert (zip->entries, g_steal_pointer (&entry_name), ze);
      at += 46 + nl + xl + cl;
    }
  return TRUE;
}

gboolean pth_zip_verify_crc = TRUE;

/* An entry by name, its CRC checked; NULL (no error) when absent. */
const ZipEntry *
pth_zip_get (Zip *zip, const char *name, const char *file, GError **error)
{
  ZipEntry *ze = g_hash_table_lookup (zip->entries, name);
  if (ze == NULL || ze->crc_ok)
    return ze;
  guint32 crc = crc32_of (ze->data, ze->size);
  if (crc != ze->crc && pth_zip_verify_crc)
    {
      FORMAT_ERROR (file, NULL, _("zip entry “%s” is corrupted (CRC-32 %08x, expected %08x)"), name,
                    crc, ze->crc);
      return NULL;
    }
  ze->crc_ok = TRUE;
  return ze;
}

