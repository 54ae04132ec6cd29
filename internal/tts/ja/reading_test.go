package ja

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The expected readings come from references, not from this code:
//   - words: IPADIC's pronunciation column (発音), as kagome returns it
//     (今日 キョー, 合成 ゴーセイ, を ヲ, は as a particle ワ); long vowels
//     are written ー as IPADIC writes them;
//   - numbers and counters: the NHK 日本語発音アクセント新辞典 appendix on
//     numerals and counters (数詞の読み, 助数詞の付き方), its first reading
//     where it gives two;
//   - Latin letters: the katakana letter names of JIS Z 8301 (A エー, H
//     エイチ, K ケー).
//
// Phrases are separated by spaces (a word with the particles and endings
// that follow it); readings written by the number rules are one phrase
// each.
var readingCases = []struct {
	rule, in, want string
}{
	// The sentence of issue #14 and FIELD-NOTES: IPADIC words.
	{"IPADIC 今日 キョー 良い ヨイ 合成 ゴーセイ", "今日は良い天気ですね。音声合成のテストです。", "キョーワ ヨイ テンキデスネ。オンセイ ゴーセイノ テストデス。"},
	{"IPADIC 東京 トーキョー 午後 ゴゴ; 三時 サンジ", "東京都の会議は午後三時に始まります。", "トーキョートノ カイギワ ゴゴ サンジニ ハジマリマス。"},
	{"IPADIC を ヲ (espeak-ng says o)", "日本語の文章を読み上げます", "ニホンゴノ ブンショーヲ ヨミアゲマス"},
	{"IPADIC 数字 スージ", "漢字も数字も", "カンジモ スージモ"},
	{"IPADIC 住む ん-音便", "彼は東京に住んでいます。", "カレワ トーキョーニ スンデイマス。"},
	{"オ段+ウ is long across words: ましょう マショー", "一緒に行きましょう", "イッショニ イキマショー"},
	{"IPADIC word 十分 ジューブン (enough), not ten minutes", "十分です", "ジューブンデス"},
	{"IPADIC word 七夕 タナバタ", "七夕", "タナバタ"},
	{"IPADIC word 八百屋 ヤオヤ", "八百屋", "ヤオヤ"},
	{"IPADIC word 三日月 ミカズキ", "三日月", "ミカズキ"},
	{"IPADIC word 一生懸命", "一生懸命", "イッショーケンメイ"},
	{"IPADIC word 千葉 チバ, not a thousand", "千葉県", "チバケン"},
	{"IPADIC word 一つ ヒトツ", "一つ", "ヒトツ"},
	{"IPADIC word 一番 イチバン", "一番", "イチバン"},
	{"IPADIC prefix ご joins: ご確認", "ご確認ください", "ゴカクニンクダサイ"},

	// Numbers (NHK: 数詞).
	{"NHK 数詞 0 ゼロ", "0", "ゼロ"},
	{"NHK 数詞 11", "11", "ジューイチ"},
	{"NHK 数詞 百 ヒャク", "100", "ヒャク"},
	{"NHK 数詞 三百 サンビャク (連濁)", "300", "サンビャク"},
	{"NHK 数詞 六百 ロッピャク (促音化)", "600", "ロッピャク"},
	{"NHK 数詞 八百 ハッピャク", "800", "ハッピャク"},
	{"NHK 数詞 三千 サンゼン", "3000", "サンゼン"},
	{"NHK 数詞 八千 ハッセン", "8000", "ハッセン"},
	{"NHK 数詞 一万 イチマン", "10000", "イチマン"},
	{"NHK 数詞 一千万 イッセンマン", "10000000", "イッセンマン"},
	{"NHK 数詞 一兆 イッチョー", "1兆", "イッチョー"},
	{"NHK 数詞 year", "2026", "ニセンニジューロク"},
	{"thousands separators", "1,234,567", "ヒャクニジューサンマンヨンセンゴヒャクロクジューナナ"},
	{"kanji 六百 ロッピャク", "六百", "ロッピャク"},
	{"kanji 三千 サンゼン", "三千", "サンゼン"},
	{"kanji 二千二十六", "二千二十六", "ニセンニジューロク"},
	{"kanji with 〇 is positional: 二〇二六年", "二〇二六年", "ニセンニジューロクネン"},
	{"kanji digits that are not one number: 二三日 ニサンニチ", "二三日", "ニサンニチ"},

	// Dates (NHK: 日付の読み; 一日 ツイタチ as a date, イチニチ as a count).
	{"NHK date 年 月 日: 五日 イツカ", "2026年12月5日", "ニセンニジューロクネン ジューニガツ イツカ"},
	{"NHK 四月 シガツ, 一日 ツイタチ after a month", "4月1日", "シガツ ツイタチ"},
	{"NHK 七月 シチガツ, 七日 ナノカ", "7月7日", "シチガツ ナノカ"},
	{"NHK 九月 クガツ, 九日 ココノカ", "9月9日", "クガツ ココノカ"},
	{"kanji 十二月一日: ツイタチ", "十二月一日", "ジューニガツ ツイタチ"},
	{"NHK 二十日 ハツカ", "二十日", "ハツカ"},
	{"NHK 十日 トーカ", "10日", "トーカ"},
	{"NHK 八日 ヨーカ", "8日", "ヨーカ"},
	{"NHK 六日 ムイカ", "6日", "ムイカ"},
	{"NHK 十四日 ジューヨッカ", "14日", "ジューヨッカ"},
	{"NHK 二十四日 ニジューヨッカ", "24日", "ニジューヨッカ"},
	{"NHK 十七日 ジューシチニチ", "17日", "ジューシチニチ"},
	{"NHK 一日 イチニチ as a count", "1日3回", "イチニチ サンカイ"},
	{"numeric date 2026/12/05", "2026/12/05", "ニセンニジューロクネン ジューニガツ イツカ"},
	{"NHK 四年 ヨネン", "4年", "ヨネン"},

	// Times (NHK: 時 四時 ヨジ 七時 シチジ 九時 クジ; 分 フン/プン).
	{"NHK 午後三時 サンジ", "午後3時", "ゴゴ サンジ"},
	{"NHK 四時 ヨジ", "四時", "ヨジ"},
	{"NHK 九時 クジ", "九時", "クジ"},
	{"NHK 七時 シチジ", "7時", "シチジ"},
	{"NHK 零時 レージ", "0時", "レージ"},
	{"NHK 一分 イップン", "1分", "イップン"},
	{"NHK 二分 ニフン", "2分", "ニフン"},
	{"NHK 三分 サンプン", "3分", "サンプン"},
	{"NHK 四分 ヨンプン", "4分", "ヨンプン"},
	{"NHK 六分 ロップン", "6分", "ロップン"},
	{"NHK 八分 ハップン", "8分", "ハップン"},
	{"NHK 十分 ジュップン", "10分", "ジュップン"},
	{"NHK 二十分 ニジュップン", "20分", "ニジュップン"},
	{"kanji 十分間 ジュップンカン", "十分間", "ジュップンカン"},
	{"clock 10:30", "10:30", "ジュージ サンジュップン"},
	{"NHK 四時間 ヨジカン", "4時間", "ヨジカン"},

	// Counters (NHK: 助数詞).
	{"NHK 三人 サンニン", "3人", "サンニン"},
	{"NHK 一人 ヒトリ", "一人で", "ヒトリデ"},
	{"NHK 二人 フタリ", "2人", "フタリ"},
	{"NHK 四人 ヨニン", "4人", "ヨニン"},
	{"NHK 八本 ハッポン", "八本", "ハッポン"},
	{"NHK 一本 イッポン", "1本", "イッポン"},
	{"NHK 三本 サンボン", "3本", "サンボン"},
	{"NHK 六本 ロッポン", "6本", "ロッポン"},
	{"NHK 十本 ジュッポン", "10本", "ジュッポン"},
	{"NHK 四本 ヨンホン", "4本", "ヨンホン"},
	{"NHK 千本 センボン", "1000本", "センボン"},
	{"NHK 一匹 イッピキ", "1匹", "イッピキ"},
	{"NHK 三匹 サンビキ", "3匹", "サンビキ"},
	{"NHK 一杯 イッパイ", "コーヒーを1杯", "コーヒーヲ イッパイ"},
	{"NHK 三杯 サンバイ", "3杯", "サンバイ"},
	{"NHK 一個 イッコ", "1個", "イッコ"},
	{"NHK 六個 ロッコ", "6個", "ロッコ"},
	{"NHK 三階 サンガイ", "3階", "サンガイ"},
	{"NHK 一冊 イッサツ", "1冊", "イッサツ"},
	{"NHK 三冊 サンサツ", "本を3冊読んだ", "ホンヲ サンサツ ヨンダ"},
	{"NHK 八歳 ハッサイ", "8歳", "ハッサイ"},
	{"NHK 二十歳 ハタチ", "私は20歳です", "ワタシワ ハタチデス"},
	{"NHK 一件 イッケン", "1件", "イッケン"},
	{"NHK 三つ ミッツ", "3つ", "ミッツ"},
	{"NHK 一か月 イッカゲツ", "1か月", "イッカゲツ"},
	{"kanji 三ヶ月 サンカゲツ", "三ヶ月", "サンカゲツ"},
	{"NHK 一週間 イッシューカン", "1週間", "イッシューカン"},
	{"kanji 第一回 ダイイッカイ", "第一回", "ダイイッカイ"},

	// Money, percentages, decimals, signs and units.
	{"money 1,500円", "1,500円", "センゴヒャクエン"},
	{"money ¥ before the amount", "¥1,500", "センゴヒャクエン"},
	{"NHK 四円 ヨエン", "4円", "ヨエン"},
	{"money with 億 and 万", "3億5000万円", "サンオクゴセンマンエン"},
	{"kanji 一万円", "一万円", "イチマンエン"},
	{"dollars", "$20", "ニジュードル"},
	{"NHK 二十パーセント ニジュッパーセント", "20%", "ニジュッパーセント"},
	{"NHK 一パーセント イッパーセント", "1%", "イッパーセント"},
	{"NHK 百パーセント ヒャクパーセント", "100%", "ヒャクパーセント"},
	{"NHK decimal 3.14 サンテンイチヨン", "3.14", "サンテンイチヨン"},
	{"NHK decimal 0.5 レーテンゴ", "0.5", "レーテンゴ"},
	{"NHK decimal 1.5 イッテンゴ", "1.5倍", "イッテンゴバイ"},
	{"unit km", "5km", "ゴキロメートル"},
	{"degrees Celsius", "25℃", "ニジューゴド"},
	{"minus sign", "-5度", "マイナス ゴド"},
	{"range 〜 カラ", "10〜20人", "ジュー カラ ニジューニン"},
	{"telephone number digit by digit, ノ between groups", "090-1234-5678", "ゼロキューゼロノ イチニーサンヨンノ ゴーロクナナハチ"},

	// Latin words (JIS letter names; romaji read as Japanese).
	{"JIS letter names: AI エーアイ", "AIの音声", "エーアイノ オンセイ"},
	{"romaji Koe コエ", "Koeで作成", "コエデ サクセイ"},
	{"JIS letter names: NHK", "NHKのニュース", "エヌエイチケーノ ニュース"},
	{"JIS letter names: USB", "USBメモリ", "ユーエスビー メモリ"},

	// Punctuation becomes pauses; width is folded.
	{"quotes and marks become pauses", "「こんにちは」、元気？はい！", "コンニチワ、ゲンキ？ハイ！"},
	{"a line break is a full stop", "はい\nいいえ", "ハイ。イーエ"},
	{"full-width digits and %", "１００％", "ヒャクパーセント"},
	{"full-width letters", "ＡＩ", "エーアイ"},
	{"half-width katakana", "ｶﾞｷﾞ", "ガギ"},
	{"katakana compounds stay one phrase", "テストケース", "テストケース"},
	{"blank", "  ", ""},
}

func TestReading(t *testing.T) {
	t.Parallel()
	require.GreaterOrEqual(t, len(readingCases), 60)
	for _, c := range readingCases {
		t.Run(c.rule+"/"+c.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, c.want, Reading(c.in))
		})
	}
}
