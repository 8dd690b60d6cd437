/* chanrac compliance-report: the periodic reports to the authority (P7) laid
 * out as REGULATIONS.md "Periodic reports" says — the D91 annual report
 * (structure of Mẫu 06: 1 traffic, 2 spam, 3 recommendations) and the legacy
 * semi-annual reports (Mẫu số 1 of an email advertising provider, and the spam
 * section of Mẫu số 3) — from the per-day statistics (lib/stats.h), with each
 * count's signed % change against the previous period (lib/regreport.h) and
 * the hand-entered fields from options or a file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "regreport.h"
#include "stats.h"
#include "util.h"

enum fmt { FMT_MD, FMT_CSV, FMT_JSON, FMT_HTML };

/* Hand-entered fields. */
struct manual {
	char provider[256];
	char revenue[1024];
	char growth[1024];
	char recommendations[4096];
	long long mailboxes, mailboxes_prev;
	int has_mailboxes, has_mailboxes_prev;
};

/* ---------------------------------------------------------------- output */

struct out {
	FILE *f;
	enum fmt fmt;
	int sections;   /* sections written */
	int items;      /* items in the current section (json) */
	const char *sec_id;
};

static void html_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void csv_cell(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\n\r") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* Markdown table cell: '|' and line ends would break the table. */
static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

static void doc_begin(struct out *o, const char *title, const char *const *meta, size_t nmeta)
{
	switch (o->fmt) {
	case FMT_MD:
		fprintf(o->f, "# %s\n\n", title);
		for (size_t i = 0; i + 1 < nmeta; i += 2)
			fprintf(o->f, "- %s: %s\n", meta[i], meta[i + 1]);
		fputc('\n', o->f);
		break;
	case FMT_CSV:
		fputs("section,item,value,previous,change\n", o->f);
		for (size_t i = 0; i + 1 < nmeta; i += 2) {
			fputs("0,", o->f);
			csv_cell(o->f, meta[i]);
			fputc(',', o->f);
			csv_cell(o->f, meta[i + 1]);
			fputs(",,\n", o->f);
		}
		break;
	case FMT_JSON:
		fputs("{\"title\":", o->f);
		json_write_str(o->f, title);
		for (size_t i = 0; i + 1 < nmeta; i += 2) {
			fputc(',', o->f);
			json_write_key(o->f, meta[i]);
			json_write_str(o->f, meta[i + 1]);
		}
		fputs(",\"sections\":[", o->f);
		break;
	case FMT_HTML:
		fputs("<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\"><title>", o->f);
		html_text(o->f, title);
		fputs("</title></head>\n<body>\n<h1>", o->f);
		html_text(o->f, title);
		fputs("</h1>\n<ul>\n", o->f);
		for (size_t i = 0; i + 1 < nmeta; i += 2) {
			fputs("<li>", o->f);
			html_text(o->f, meta[i]);
			fputs(": ", o->f);
			html_text(o->f, meta[i + 1]);
			fputs("</li>\n", o->f);
		}
		fputs("</ul>\n", o->f);
		break;
	}
}

static void doc_end(struct out *o)
{
	if (o->fmt == FMT_JSON)
		fputs("]}\n", o->f);
	else if (o->fmt == FMT_HTML)
		fputs("</body></html>\n", o->f);
}

static void section(struct out *o, const char *id, const char *title)
{
	o->sec_id = id;
	o->items = 0;
	switch (o->fmt) {
	case FMT_MD:
		fprintf(o->f, "## %s. %s\n\n", id, title);
		break;
	case FMT_CSV:
		break;
	case FMT_JSON:
		fputs(o->sections ? ",{\"id\":" : "{\"id\":", o->f);
		json_write_str(o->f, id);
		fputs(",\"title\":", o->f);
		json_write_str(o->f, title);
		fputs(",\"items\":[", o->f);
		break;
	case FMT_HTML:
		fputs("<h2>", o->f);
		html_text(o->f, id);
		fputs(". ", o->f);
		html_text(o->f, title);
		fputs("</h2>\n", o->f);
		break;
	}
	o->sections++;
}

static void section_end(struct out *o)
{
	if (o->fmt == FMT_JSON)
		fputs("]}", o->f);
}

/* A table, as every format prints it: a header row, then rows of cells; a NULL
 * cell is a value not entered.  A table of counts (name NULL; the columns #,
 * item, this period, previous period, +/-) is one JSON item and one CSV line
 * "id,item,value,previous,change" per row; any other table is one JSON item
 * {"table":NAME,"columns":[...],"rows":[[...],...]} and CSV lines
 * "SECTION,cell,...", the header first. */
struct table {
	const char *name;
	size_t ncols, nrows;       /* nrows counts the header */
	const char *const *cells;  /* nrows * ncols, row by row */
	size_t left;               /* Markdown: the first columns align left, the rest right */
};

static void table_print(struct out *o, const struct table *t)
{
	int counts = t->name == NULL;

	for (size_t r = 0; r < t->nrows; r++) {
		const char *const *row = t->cells + r * t->ncols;
		switch (o->fmt) {
		case FMT_MD:
			fputc('|', o->f);
			for (size_t c = 0; c < t->ncols; c++) {
				fputc(' ', o->f);
				md_cell(o->f, row[c] ? row[c] : "not entered");
				fputs(" |", o->f);
			}
			fputc('\n', o->f);
			if (r == 0) {
				fputc('|', o->f);
				for (size_t c = 0; c < t->ncols; c++)
					fputs(c < t->left ? "---|" : "---:|", o->f);
				fputc('\n', o->f);
			}
			break;
		case FMT_CSV:
			if (counts && r == 0)
				break;
			if (!counts)
				csv_cell(o->f, o->sec_id);
			for (size_t c = 0; c < t->ncols; c++) {
				if (c > 0 || !counts)
					fputc(',', o->f);
				csv_cell(o->f, row[c] ? row[c] : "");
			}
			fputc('\n', o->f);
			break;
		case FMT_JSON:
			if (counts) {
				if (r == 0)
					break;
				fputs(o->items ? ",{\"id\":" : "{\"id\":", o->f);
				json_write_str(o->f, row[0]);
				fputs(",\"item\":", o->f);
				json_write_str(o->f, row[1]);
				if (row[2] == NULL) {
					fputs(",\"value\":null,\"previous\":null,\"change\":null}", o->f);
				} else {
					fprintf(o->f, ",\"value\":%s,\"previous\":%s,\"change\":", row[2],
						row[3]);
					json_write_str(o->f, row[4]);
					fputc('}', o->f);
				}
				o->items++;
				break;
			}
			if (r == 0) {
				fputs(o->items ? ",{\"table\":" : "{\"table\":", o->f);
				json_write_str(o->f, t->name);
				fputs(",\"columns\":[", o->f);
			} else {
				fputs(r == 1 ? "],\"rows\":[[" : ",[", o->f);
			}
			for (size_t c = 0; c < t->ncols; c++) {
				if (c)
					fputc(',', o->f);
				json_write_str(o->f, row[c]);
			}
			if (r > 0)
				fputc(']', o->f);
			break;
		case FMT_HTML:
			if (r == 0)
				fputs("<table border=\"1\">\n", o->f);
			fputs("<tr>", o->f);
			for (size_t c = 0; c < t->ncols; c++) {
				fputs(r == 0 ? "<th>" : "<td>", o->f);
				html_text(o->f, row[c] ? row[c] : "not entered");
				fputs(r == 0 ? "</th>" : "</td>", o->f);
			}
			fputs("</tr>\n", o->f);
			break;
		}
	}
	if (o->fmt == FMT_JSON && !counts) {
		fputs(t->nrows > 1 ? "]}" : "],\"rows\":[]}", o->f);
		o->items++;
	} else if (o->fmt == FMT_HTML) {
		fputs("</table>\n", o->f);
	} else if (o->fmt == FMT_MD) {
		fputc('\n', o->f);
	}
}

/* A table of counts: id, item, this period, previous period, +/-. */
struct count_row {
	const char *id, *label;
	long long cur, prev;
	int missing; /* hand-entered and not given */
};

static void counts_table(struct out *o, const struct count_row *rows, size_t n,
			 const char *cur_name, const char *prev_name)
{
	const char **cells = calloc((n + 1) * 5, sizeof *cells);
	char (*nums)[3][32] = calloc(n + 1, sizeof *nums);

	if (cells != NULL && nums != NULL) {
		cells[0] = "#";
		cells[1] = "Item";
		cells[2] = cur_name;
		cells[3] = prev_name;
		cells[4] = "+/-";
		for (size_t i = 0; i < n; i++) {
			const struct count_row *r = &rows[i];
			const char **row = cells + (i + 1) * 5;
			row[0] = r->id;
			row[1] = r->label;
			row[4] = "n/a";
			if (r->missing)
				continue;
			snprintf(nums[i][0], sizeof nums[i][0], "%lld", r->cur);
			snprintf(nums[i][1], sizeof nums[i][1], "%lld", r->prev);
			regreport_change(r->cur, r->prev, nums[i][2], sizeof nums[i][2]);
			row[2] = nums[i][0];
			row[3] = nums[i][1];
			row[4] = nums[i][2];
		}
		table_print(o, &(struct table){ NULL, 5, n + 1, cells, 2 });
	}
	free(cells);
	free(nums);
}

/* A labelled free-text field. */
static void text_field(struct out *o, const char *label, const char *text)
{
	const char *t = text && text[0] ? text : "(not entered)";
	switch (o->fmt) {
	case FMT_MD:
		fprintf(o->f, "%s: %s\n\n", label, t);
		break;
	case FMT_CSV:
		csv_cell(o->f, o->sec_id);
		fputc(',', o->f);
		csv_cell(o->f, label);
		fputc(',', o->f);
		csv_cell(o->f, t);
		fputs(",,\n", o->f);
		break;
	case FMT_JSON:
		fputs(o->items ? ",{\"item\":" : "{\"item\":", o->f);
		json_write_str(o->f, label);
		fputs(",\"text\":", o->f);
		if (text && text[0])
			json_write_str(o->f, text);
		else
			fputs("null", o->f);
		fputc('}', o->f);
		break;
	case FMT_HTML:
		fputs("<p><b>", o->f);
		html_text(o->f, label);
		fputs(":</b> ", o->f);
		html_text(o->f, t);
		fputs("</p>\n", o->f);
		break;
	}
	o->items++;
}

/* ---------------------------------------------------------------- data */

struct period_data {
	struct stats_values f;        /* field sums */
	struct stats_values advertisers;
	struct stats_values adv_sent; /* per customer */
	struct stats_values adv_tpl;  /* "customer\ttemplate" */
	struct stats_values reasons;  /* opt-out not processable, per reason */
};

static int load_period(cr_stats *s, const struct regreport_period *p, struct period_data *d,
		       char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	if (stats_read_fields(s, p->from, p->to, &d->f, err, errlen) < 0 ||
	    stats_read_distinct(s, p->from, p->to, STATS_SET_ADVERTISER, &d->advertisers, err,
				errlen) < 0 ||
	    stats_read_labels(s, p->from, p->to, STATS_LABEL_ADV_SENT, &d->adv_sent, err,
			      errlen) < 0 ||
	    stats_read_distinct(s, p->from, p->to, STATS_SET_ADV_TEMPLATE, &d->adv_tpl, err,
				errlen) < 0 ||
	    stats_read_labels(s, p->from, p->to, STATS_LABEL_OPTOUT_REASON, &d->reasons, err,
			      errlen) < 0)
		return -1;
	return 0;
}

static void free_period(struct period_data *d)
{
	stats_values_free(&d->f);
	stats_values_free(&d->advertisers);
	stats_values_free(&d->adv_sent);
	stats_values_free(&d->adv_tpl);
	stats_values_free(&d->reasons);
}

static long long V(const struct period_data *d, const char *name)
{
	return stats_value(&d->f, name);
}

/* Customers with at least one advertising email sent. */
static long long customers(const struct period_data *d)
{
	long long n = 0;
	for (size_t i = 0; i < d->adv_sent.n; i++)
		n += d->adv_sent.v[i].n > 0;
	return n;
}

static long long templates_of(const struct period_data *d, const char *customer)
{
	size_t k = strlen(customer);
	long long n = 0;
	for (size_t i = 0; i < d->adv_tpl.n; i++)
		if (strncmp(d->adv_tpl.v[i].name, customer, k) == 0 &&
		    d->adv_tpl.v[i].name[k] == '\t')
			n++;
	return n;
}

static long long sum_values(const struct stats_values *v)
{
	long long n = 0;
	for (size_t i = 0; i < v->n; i++)
		n += v->v[i].n;
	return n;
}

/* ---------------------------------------------------------------- reports */

/* The title and what every report lists under it; recipient NULL: none. */
static void report_begin(struct out *o, const char *title, const struct manual *m,
			 const struct regreport_period *cur, const struct regreport_period *prev,
			 const char *recipient)
{
	char pc[96], pp[96], due[32];
	const char *meta[] = {
		"provider", m->provider[0] ? m->provider : "(not entered)",
		"period", pc,
		"previous period", pp,
		"due", due,
		"recipient", recipient,
	};

	snprintf(pc, sizeof pc, "%s – %s (%s)", cur->first, cur->last, cur->name);
	snprintf(pp, sizeof pp, "%s – %s (%s)", prev->first, prev->last, prev->name);
	snprintf(due, sizeof due, "before %s", cur->due);
	doc_begin(o, title, meta, recipient != NULL ? 10 : 8);
}

static void report_annual(struct out *o, const struct manual *m,
			  const struct regreport_period *cur, const struct regreport_period *prev,
			  const struct period_data *c, const struct period_data *p)
{
	char title[128];

	snprintf(title, sizeof title, "Báo cáo tình hình thư điện tử rác năm %s "
		 "(annual spam email report, Decree 91/2020)", cur->name);
	report_begin(o, title, m, cur, prev,
		     "Authority of Information Security (Cục An toàn thông tin)");

	section(o, "1", "Traffic (Lưu lượng)");
	{
		struct count_row rows[] = {
			/* msg.total counts every checked message, out.total the
			 * authenticated submissions among them */
			{ "1.1", "Emails received (Số email nhận)",
			  V(c, STATS_MSG_TOTAL) - V(c, STATS_OUT_TOTAL),
			  V(p, STATS_MSG_TOTAL) - V(p, STATS_OUT_TOTAL), 0 },
			{ "1.2", "Emails sent (Số email gửi)", V(c, STATS_OUT_TOTAL),
			  V(p, STATS_OUT_TOTAL), 0 },
			{ "1.3", "Mailboxes (Số hộp thư)", m->mailboxes, m->mailboxes_prev,
			  !m->has_mailboxes || !m->has_mailboxes_prev },
			{ "1.4", "Advertising emails (Số email quảng cáo)", V(c, STATS_ADV_TOTAL),
			  V(p, STATS_ADV_TOTAL), 0 },
			{ "1.5", "Distinct advertisers (Số người quảng cáo)",
			  (long long)c->advertisers.n, (long long)p->advertisers.n, 0 },
		};
		counts_table(o, rows, sizeof rows / sizeof rows[0], cur->name, prev->name);
	}
	section_end(o);

	section(o, "2", "Spam (Thư rác)");
	{
		struct count_row rows[] = {
			{ "2.1", "Spam reports received (Số phản ánh nhận được)",
			  V(c, STATS_REPORT_RECEIVED), V(p, STATS_REPORT_RECEIVED), 0 },
			{ "2.2", "Spam reports processed (Số phản ánh đã xử lý)",
			  V(c, STATS_REPORT_PROCESSED), V(p, STATS_REPORT_PROCESSED), 0 },
			{ "2.3", "Spam blocked: rejected (Chặn: từ chối)", V(c, "msg.reject"),
			  V(p, "msg.reject"), 0 },
			{ "2.4", "Spam blocked: quarantined (Chặn: cách ly)", V(c, "msg.quarantine"),
			  V(p, "msg.quarantine"), 0 },
			{ "2.5", "Wrongly blocked: released or reported not-spam (Chặn nhầm)",
			  V(c, STATS_WRONG_RELEASED) + V(c, STATS_WRONG_NOTSPAM),
			  V(p, STATS_WRONG_RELEASED) + V(p, STATS_WRONG_NOTSPAM), 0 },
			{ "2.6", "Blacklist entries added (Danh sách đen: thêm)", V(c, STATS_LIST_ADDED),
			  V(p, STATS_LIST_ADDED), 0 },
			{ "2.7", "Blacklist entries removed (Danh sách đen: gỡ)",
			  V(c, STATS_LIST_REMOVED), V(p, STATS_LIST_REMOVED), 0 },
			{ "2.8", "Blacklist entries shared (Danh sách đen: chia sẻ)",
			  V(c, STATS_LIST_EXPORTED), V(p, STATS_LIST_EXPORTED), 0 },
			{ "2.9", "Blacklist entries received from others (Danh sách đen: nhận từ nơi khác)",
			  V(c, STATS_LIST_IMPORTED), V(p, STATS_LIST_IMPORTED), 0 },
		};
		counts_table(o, rows, sizeof rows / sizeof rows[0], cur->name, prev->name);
	}
	section_end(o);

	section(o, "3", "Recommendations (Kiến nghị, đề xuất)");
	text_field(o, "Recommendations", m->recommendations);
	section_end(o);
	doc_end(o);
}

static void report_form1(struct out *o, const struct manual *m,
			 const struct regreport_period *cur, const struct regreport_period *prev,
			 const struct period_data *c, const struct period_data *p)
{
	static const char *const channels[] = STATS_OPTOUT_CHANNELS;
	static const char *const stages[] = STATS_OPTOUT_STAGES;
	static const char *const stage_names[] = {
		"Requests received (Số yêu cầu nhận được)",
		"Requests confirmed (Số yêu cầu đã xác nhận)",
		"Requests processed (Số yêu cầu đã xử lý)",
		"Not processable, force majeure (Không xử lý được do bất khả kháng)",
	};
	char title[160];

	snprintf(title, sizeof title, "Mẫu số 1: Báo cáo định kỳ 6 tháng của nhà cung cấp dịch vụ "
		 "quảng cáo bằng thư điện tử, %s", cur->name);
	report_begin(o, title, m, cur, prev, NULL);

	section(o, "1", "Revenue and growth (Doanh thu và tăng trưởng)");
	text_field(o, "Revenue (Doanh thu)", m->revenue);
	text_field(o, "Growth (Tăng trưởng)", m->growth);
	section_end(o);

	section(o, "2", "Per customer (Theo khách hàng)");
	{
		size_t n = c->adv_sent.n;
		const char **cells = calloc((n + 1) * 4, sizeof *cells);
		char (*nums)[3][24] = calloc(n + 1, sizeof *nums);
		size_t r = 1;
		if (cells != NULL && nums != NULL) {
			cells[0] = "#";
			cells[1] = "Customer (Tên khách hàng)";
			cells[2] = "Advertising messages, distinct templates (Số thông điệp quảng cáo)";
			cells[3] = "Advertising emails sent (Số email quảng cáo đã gửi)";
			for (size_t i = 0; i < n; i++) {
				if (c->adv_sent.v[i].n <= 0)
					continue;
				snprintf(nums[r][0], 24, "%zu", r);
				snprintf(nums[r][1], 24, "%lld", templates_of(c, c->adv_sent.v[i].name));
				snprintf(nums[r][2], 24, "%lld", c->adv_sent.v[i].n);
				cells[r * 4] = nums[r][0];
				cells[r * 4 + 1] = c->adv_sent.v[i].name;
				cells[r * 4 + 2] = nums[r][1];
				cells[r * 4 + 3] = nums[r][2];
				r++;
			}
			table_print(o, &(struct table){ "customers", 4, r, cells, 1 });
		}
		free(cells);
		free(nums);
	}
	section_end(o);

	section(o, "3", "Totals (Tổng hợp)");
	{
		struct count_row rows[] = {
			{ "3.1", "Customers (Số khách hàng)", customers(c), customers(p), 0 },
			{ "3.2", "Advertising messages (Số thông điệp quảng cáo)",
			  (long long)c->adv_tpl.n, (long long)p->adv_tpl.n, 0 },
			{ "3.3", "Advertising emails (Số email quảng cáo)", sum_values(&c->adv_sent),
			  sum_values(&p->adv_sent), 0 },
		};
		counts_table(o, rows, 3, cur->name, prev->name);
	}
	section_end(o);

	section(o, "4", "Opt-out requests by channel (Yêu cầu từ chối nhận quảng cáo)");
	{
		const char *cells[5 * 6];
		char nums[4][4][24];
		cells[0] = "#";
		cells[1] = "Requests (Yêu cầu)";
		cells[2] = "Web";
		cells[3] = "Email";
		cells[4] = "Phone (Điện thoại)";
		cells[5] = "Total (Tổng)";
		for (size_t s = 0; s < 4; s++) {
			long long tot = 0;
			static const char *const ids[] = { "4.1", "4.2", "4.3", "4.4" };
			cells[(s + 1) * 6] = ids[s];
			cells[(s + 1) * 6 + 1] = stage_names[s];
			for (size_t ch = 0; ch < 3; ch++) {
				char field[64];
				snprintf(field, sizeof field, "optout.%s.%s", stages[s], channels[ch]);
				long long v = V(c, field);
				tot += v;
				snprintf(nums[s][ch], 24, "%lld", v);
				cells[(s + 1) * 6 + 2 + ch] = nums[s][ch];
			}
			snprintf(nums[s][3], 24, "%lld", tot);
			cells[(s + 1) * 6 + 5] = nums[s][3];
		}
		table_print(o, &(struct table){ "optout", 6, 5, cells, 1 });
		/* the reasons of the requests that could not be processed */
		{
			size_t n = c->reasons.n;
			const char **rc = calloc((n + 1) * 2, sizeof *rc);
			char (*num)[24] = calloc(n + 1, sizeof *num);
			if (rc != NULL && num != NULL) {
				rc[0] = "Reason (Lý do)";
				rc[1] = "Requests (Số yêu cầu)";
				for (size_t i = 0; i < n; i++) {
					snprintf(num[i], 24, "%lld", c->reasons.v[i].n);
					rc[(i + 1) * 2] = c->reasons.v[i].name;
					rc[(i + 1) * 2 + 1] = num[i];
				}
				table_print(o, &(struct table){ "optout_reasons", 2, n + 1, rc, 1 });
			}
			free(rc);
			free(num);
		}
	}
	section_end(o);

	section(o, "5", "Recommendations (Kiến nghị, đề xuất)");
	text_field(o, "Recommendations", m->recommendations);
	section_end(o);
	doc_end(o);
}

static void report_form3(struct out *o, const struct manual *m,
			 const struct regreport_period *cur, const struct regreport_period *prev,
			 const struct period_data *c, const struct period_data *p)
{
	char title[160];

	snprintf(title, sizeof title, "Mẫu số 3: Báo cáo định kỳ 6 tháng của nhà cung cấp dịch vụ "
		 "tin nhắn qua mạng Internet — thư rác, %s", cur->name);
	report_begin(o, title, m, cur, prev, NULL);
	section(o, "1", "Spam (Thư rác)");
	{
		long long dc = V(c, "msg.tag") + V(c, "msg.quarantine") + V(c, "msg.reject");
		long long dp = V(p, "msg.tag") + V(p, "msg.quarantine") + V(p, "msg.reject");
		struct count_row rows[] = {
			{ "1.1", "Spam detected (Số thư rác phát hiện)", dc, dp, 0 },
			{ "1.2", "Spam reports received (Số phản ánh nhận được)",
			  V(c, STATS_REPORT_RECEIVED), V(p, STATS_REPORT_RECEIVED), 0 },
			{ "1.3", "Reports processed (Số phản ánh đã xử lý)",
			  V(c, STATS_REPORT_PROCESSED), V(p, STATS_REPORT_PROCESSED), 0 },
		};
		counts_table(o, rows, 3, cur->name, prev->name);
	}
	section_end(o);
	doc_end(o);
}

/* ---------------------------------------------------------------- input */

static int parse_count(const char *what, const char *v, long long *out)
{
	int64_t n;
	if (util_parse_i64(v, 0, 1000000000000LL, &n) < 0) {
		cli_err("%s %s: not a count (0 or more)", what, v);
		return -1;
	}
	*out = n;
	return 0;
}

/* "key = value" lines; '#' comments; keys: provider, revenue, growth,
 * recommendations, mailboxes, mailboxes_prev. */
static int read_input(const char *path, struct manual *m)
{
	FILE *f = fopen(path, "r");
	char line[4200];
	unsigned ln = 0;

	if (f == NULL) {
		cli_err("--input %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *k = line, *v, *e;
		ln++;
		while (*k == ' ' || *k == '\t')
			k++;
		if (*k == '#' || *k == '\n' || *k == '\0')
			continue;
		v = strchr(k, '=');
		if (v == NULL) {
			cli_err("%s:%u: not \"key = value\"", path, ln);
			fclose(f);
			return -1;
		}
		*v++ = '\0';
		for (e = v - 2; e >= k && (*e == ' ' || *e == '\t'); e--)
			*e = '\0';
		while (*v == ' ' || *v == '\t')
			v++;
		e = v + strlen(v);
		while (e > v && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '))
			*--e = '\0';
		if (strcmp(k, "provider") == 0)
			util_strlcpy(m->provider, v, sizeof m->provider);
		else if (strcmp(k, "revenue") == 0)
			util_strlcpy(m->revenue, v, sizeof m->revenue);
		else if (strcmp(k, "growth") == 0)
			util_strlcpy(m->growth, v, sizeof m->growth);
		else if (strcmp(k, "recommendations") == 0)
			util_strlcpy(m->recommendations, v, sizeof m->recommendations);
		else if (strcmp(k, "mailboxes") == 0) {
			if (parse_count("mailboxes", v, &m->mailboxes) < 0) {
				fclose(f);
				return -1;
			}
			m->has_mailboxes = 1;
		} else if (strcmp(k, "mailboxes_prev") == 0) {
			if (parse_count("mailboxes_prev", v, &m->mailboxes_prev) < 0) {
				fclose(f);
				return -1;
			}
			m->has_mailboxes_prev = 1;
		} else {
			cli_err("%s:%u: unknown key \"%s\" (provider, revenue, growth, recommendations, "
				"mailboxes, mailboxes_prev)", path, ln, k);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

int cli_cmd_compliance_report(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "period", required_argument, NULL, 'p' },
		{ "form", required_argument, NULL, 'F' },
		{ "format", required_argument, NULL, 'f' },
		{ "input", required_argument, NULL, 'i' },
		{ "provider", required_argument, NULL, 'P' },
		{ "revenue", required_argument, NULL, 'r' },
		{ "growth", required_argument, NULL, 'g' },
		{ "recommendations", required_argument, NULL, 'R' },
		{ "mailboxes", required_argument, NULL, 'm' },
		{ "mailboxes-prev", required_argument, NULL, 'M' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kind = NULL, *period = NULL, *form = NULL, *format = NULL, *output = NULL;
	const char *o_provider = NULL, *o_revenue = NULL, *o_growth = NULL, *o_rec = NULL;
	const char *o_mb = NULL, *o_mbp = NULL, *input = NULL;
	struct manual m;
	struct regreport_period cur, prev;
	struct period_data dc, dp;
	enum regreport_kind k;
	enum fmt fmt = FMT_MD;
	char err[512], tmp[4096];
	int ch, rc = CLI_OK;
	cr_stats *s;
	struct out o;

	memset(&m, 0, sizeof m);
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'k': kind = optarg; break;
		case 'p': period = optarg; break;
		case 'F': form = optarg; break;
		case 'f': format = optarg; break;
		case 'i': input = optarg; break;
		case 'P': o_provider = optarg; break;
		case 'r': o_revenue = optarg; break;
		case 'g': o_growth = optarg; break;
		case 'R': o_rec = optarg; break;
		case 'm': o_mb = optarg; break;
		case 'M': o_mbp = optarg; break;
		case 'o': output = optarg; break;
		case 'j': case 'c': break;
		case ':':
			cli_err("compliance-report: option %s needs a value", argv[optind - 1]);
			return CLI_BADINPUT;
		default:
			cli_err("compliance-report: unknown option '%s'", argv[optind - 1]);
			return CLI_BADINPUT;
		}
	}
	if (optind != argc) {
		cli_err("compliance-report: unexpected argument '%s'", argv[optind]);
		return CLI_BADINPUT;
	}
	if (kind == NULL || (strcmp(kind, "annual") != 0 && strcmp(kind, "semiannual") != 0)) {
		cli_err("compliance-report: --kind annual or --kind semiannual");
		return CLI_BADINPUT;
	}
	k = kind[0] == 'a' ? REGREPORT_ANNUAL : REGREPORT_SEMIANNUAL;
	if (period == NULL) {
		cli_err("compliance-report: --period is required (%s)",
			k == REGREPORT_ANNUAL ? "e.g. 2026" : "e.g. 2026-H1");
		return CLI_BADINPUT;
	}
	if (regreport_period(k, period, &cur, &prev, err, sizeof err) < 0) {
		cli_err("%s", err);
		return CLI_BADINPUT;
	}
	if (form != NULL && (k == REGREPORT_ANNUAL ||
			     (strcmp(form, "1") != 0 && strcmp(form, "3") != 0))) {
		cli_err("--form %s: 1 or 3, with --kind semiannual only", form);
		return CLI_BADINPUT;
	}
	if (format == NULL && cli->json)
		format = "json";
	if (format != NULL) {
		if (strcmp(format, "md") == 0) fmt = FMT_MD;
		else if (strcmp(format, "csv") == 0) fmt = FMT_CSV;
		else if (strcmp(format, "json") == 0) fmt = FMT_JSON;
		else if (strcmp(format, "html") == 0) fmt = FMT_HTML;
		else {
			cli_err("--format %s: md, csv, json or html", format);
			return CLI_BADINPUT;
		}
	}
	if (input != NULL && read_input(input, &m) < 0)
		return CLI_BADINPUT;
	if (o_provider) util_strlcpy(m.provider, o_provider, sizeof m.provider);
	if (o_revenue) util_strlcpy(m.revenue, o_revenue, sizeof m.revenue);
	if (o_growth) util_strlcpy(m.growth, o_growth, sizeof m.growth);
	if (o_rec) util_strlcpy(m.recommendations, o_rec, sizeof m.recommendations);
	if (o_mb) {
		if (parse_count("--mailboxes", o_mb, &m.mailboxes) < 0)
			return CLI_BADINPUT;
		m.has_mailboxes = 1;
	}
	if (o_mbp) {
		if (parse_count("--mailboxes-prev", o_mbp, &m.mailboxes_prev) < 0)
			return CLI_BADINPUT;
		m.has_mailboxes_prev = 1;
	}
	s = stats_new(cli->conf, err, sizeof err);
	if (s == NULL) {
		cli_err("%s", err);
		return CLI_BADINPUT;
	}
	if (load_period(s, &cur, &dc, err, sizeof err) < 0 ||
	    load_period(s, &prev, &dp, err, sizeof err) < 0) {
		cli_err("compliance-report: %s", err);
		free_period(&dc);
		free_period(&dp);
		stats_free(s);
		return CLI_UNAVAIL;
	}
	memset(&o, 0, sizeof o);
	o.fmt = fmt;
	o.f = stdout;
	if (output != NULL) {
		snprintf(tmp, sizeof tmp, "%s.tmp.%ld", output, (long)getpid());
		o.f = fopen(tmp, "w");
		if (o.f == NULL) {
			cli_err("-o %s: %s", output, strerror(errno));
			rc = CLI_BADINPUT;
			goto out;
		}
	}
	if (k == REGREPORT_ANNUAL) {
		report_annual(&o, &m, &cur, &prev, &dc, &dp);
	} else if (form != NULL) {
		if (form[0] == '1')
			report_form1(&o, &m, &cur, &prev, &dc, &dp);
		else
			report_form3(&o, &m, &cur, &prev, &dc, &dp);
	} else {
		/* both forms; JSON as an array of the two documents */
		if (fmt == FMT_JSON)
			fputc('[', o.f);
		report_form1(&o, &m, &cur, &prev, &dc, &dp);
		o.sections = 0;
		if (fmt == FMT_JSON)
			fputc(',', o.f);
		else if (fmt == FMT_MD)
			fputs("\n---\n\n", o.f);
		report_form3(&o, &m, &cur, &prev, &dc, &dp);
		if (fmt == FMT_JSON)
			fputs("]\n", o.f);
	}
	if (output != NULL) {
		int bad = fclose(o.f) != 0 || rename(tmp, output) != 0;
		if (bad) {
			cli_err("-o %s: write error", output);
			unlink(tmp);
			rc = CLI_BADINPUT;
		}
	}
out:
	free_period(&dc);
	free_period(&dp);
	stats_free(s);
	return rc;
}
