/**
 * The fixed catalogue behind the simulator and the responsibility list (权责清单): departments (职能部门) and
 * event categories with their responsible department, step time limits (时限), handling level, how often they
 * occur, where they are reported from, how severe they are, and Chinese title/description templates.
 */
import type { Department, EventSource, ResponsibilityRule, StepLimits } from '../../protocol/model';
import { anonymisedPerson } from './names';
import type { Rng } from './random';

export const DEPARTMENTS: readonly Department[] = [
  { id: 'dept-police', code: 'GA', name: '市公安局' },
  { id: 'dept-urban', code: 'CG', name: '市城市管理局' },
  { id: 'dept-emergency', code: 'YJ', name: '市应急管理局' },
  { id: 'dept-justice', code: 'SF', name: '市司法局' },
  { id: 'dept-market', code: 'SCJG', name: '市市场监督管理局' },
  { id: 'dept-civil', code: 'MZ', name: '市民政局' },
  { id: 'dept-petition', code: 'XF', name: '市信访局' },
  { id: 'dept-housing', code: 'ZJ', name: '市住房和城乡建设局' },
  { id: 'dept-environment', code: 'STHJ', name: '市生态环境局' },
  { id: 'dept-transport', code: 'JTYS', name: '市交通运输局' },
  { id: 'dept-health', code: 'WJ', name: '市卫生健康委员会' },
  { id: 'dept-water', code: 'SW', name: '市水务局' },
  { id: 'dept-hr', code: 'RS', name: '市人力资源和社会保障局' },
];

export type HandlingLevel = ResponsibilityRule['handlingLevel'];
/** Probabilities of severity 1 (一般) … 4 (特别重大). */
export type SeverityDistribution = readonly [number, number, number, number];

export interface EventCategory {
  id: string;
  name: string;
  departmentId: string;
  limits: StepLimits;
  handlingLevel: HandlingLevel;
  /** Relative frequency among all events. */
  weight: number;
  /** Relative weight of each source for this category (0: never reported that way). */
  sources: Readonly<Record<EventSource, number>>;
  severity: SeverityDistribution;
  /** Placeholders: {district} {street} {community} {road} {building} {unit} {room} {num} {shop} {company} {person} {count} {time}. */
  titles: readonly string[];
  descriptions: readonly string[];
}

const DAY = 24 * 60;
/** Ordinary categories: accept within 1 h, dispatch within 2 h, handle in `handleDays`, follow up within 2 days. */
const ordinary = (handleDays: number): StepLimits => ({ report: 60, dispatch: 120, handle: handleDays * DAY, followup: 2 * DAY, close: DAY });
/** Urgent categories: shorter limits on every step. */
const urgent = (report: number, dispatch: number, handleMinutes: number): StepLimits => ({ report, dispatch, handle: handleMinutes, followup: DAY, close: DAY });

const src = (w: Partial<Record<EventSource, number>>): Record<EventSource, number> => ({
  'grid-app': 0,
  hotline: 0,
  'video-ai': 0,
  sensor: 0,
  'citizen-app': 0,
  leader: 0,
  ...w,
});

export const CATEGORIES: readonly EventCategory[] = [
  {
    id: 'dispute-neighbour',
    name: '邻里纠纷',
    departmentId: 'dept-justice',
    limits: ordinary(3),
    handlingLevel: 'grid',
    weight: 10,
    sources: src({ 'grid-app': 6, hotline: 3, 'citizen-app': 2, leader: 0.2 }),
    severity: [0.62, 0.3, 0.07, 0.01],
    titles: [
      '{community}{building}号楼邻里因漏水问题发生纠纷',
      '{community}居民因楼道堆物引发邻里矛盾',
      '{community}{building}号楼上下楼住户因噪音发生争执',
      '{road}沿街住户因排水管道问题产生纠纷',
      '{community}两户居民因停车位发生口角',
      '{community}{building}号楼居民因饲养宠物扰邻产生矛盾',
    ],
    descriptions: [
      '{community}{building}号楼{unit}单元{room}室与楼下住户因卫生间渗水问题多次协商未果，双方情绪激动，需网格员上门调解。',
      '居民{person}反映，邻居长期在公共区域堆放杂物、占用通道，沟通无果，请求社区协调处理。',
      '{time}{community}内两户居民因琐事发生争吵，现场已劝离，双方矛盾尚未化解，建议跟进调解。',
    ],
  },
  {
    id: 'dispute-general',
    name: '矛盾纠纷',
    departmentId: 'dept-justice',
    limits: ordinary(5),
    handlingLevel: 'street',
    weight: 8,
    sources: src({ 'grid-app': 5, hotline: 3, 'citizen-app': 1.5, leader: 0.5 }),
    severity: [0.45, 0.38, 0.14, 0.03],
    titles: [
      '{community}业主与物业公司因物业费问题发生纠纷',
      '{community}村民因宅基地边界发生争议',
      '{road}商户与房东因租赁合同产生纠纷',
      '{community}业主反映开发商延期交房',
      '{community}居民因征收补偿问题产生矛盾',
      '{road}一家{shop}与顾客发生消费纠纷',
      '{community}居民与施工方因房屋受损产生纠纷',
    ],
    descriptions: [
      '{person}等{count}户业主反映，{community}物业服务不到位却上调收费标准，业主拒缴物业费，双方僵持，需街道牵头调处。',
      '{community}两户因土地使用边界各执一词，曾发生推搡，网格员已初步劝解，需司法所介入调解。',
      '{road}{num}号商户{person}反映与房东就租金和押金退还发生争议，双方协商未果，请求调解。',
    ],
  },
  {
    id: 'family-dispute',
    name: '家庭纠纷',
    departmentId: 'dept-justice',
    limits: ordinary(3),
    handlingLevel: 'grid',
    weight: 4,
    sources: src({ 'grid-app': 5, hotline: 2, 'citizen-app': 1 }),
    severity: [0.55, 0.32, 0.1, 0.03],
    titles: [
      '{community}{building}号楼居民家庭矛盾激化',
      '{community}老人反映子女不履行赡养义务',
      '{community}兄弟因老宅继承问题发生争执',
      '{community}夫妻因离婚财产分割发生争吵',
      '{community}居民反映遭受家庭暴力',
    ],
    descriptions: [
      '{community}{building}号楼{unit}单元居民{person}{time}与家人发生激烈争吵，邻居听到摔砸声后报告，网格员已上门了解情况。',
      '{community}老人{person}反映，子女长期不支付赡养费、不探望，生活困难，请求社区和司法所协调。',
      '{community}{person}兄弟二人因父母遗留房产分配问题多次争吵，有激化迹象，需及时介入调解。',
    ],
  },
  {
    id: 'labour-dispute',
    name: '劳资纠纷',
    departmentId: 'dept-hr',
    limits: ordinary(5),
    handlingLevel: 'district',
    weight: 4,
    sources: src({ hotline: 6, 'grid-app': 2, 'citizen-app': 1.5, leader: 0.5 }),
    severity: [0.35, 0.4, 0.2, 0.05],
    titles: [
      '{road}在建工地{count}名农民工讨要欠薪',
      '{company}拖欠员工工资',
      '{road}一家{shop}未签劳动合同即辞退员工',
      '{company}员工反映未缴纳社会保险',
      '{company}停产后拖欠员工经济补偿',
      '{road}工地劳务分包方拖欠工人工资',
    ],
    descriptions: [
      '{person}等{count}名工人反映，{company}拖欠其数月工资，多次讨要未果，情绪激动，有聚集上访苗头。',
      '{road}{num}号{company}员工{person}来电反映，公司未依法签订劳动合同并拖欠加班费，请求劳动监察处理。',
      '{community}附近工地劳务人员聚集讨薪，网格员已到场稳控，需人社部门协调项目方解决。',
    ],
  },
  {
    id: 'petition',
    name: '信访维稳',
    departmentId: 'dept-petition',
    limits: urgent(30, 60, DAY),
    handlingLevel: 'district',
    weight: 2.5,
    sources: src({ 'grid-app': 3, hotline: 2, leader: 2, 'citizen-app': 0.5 }),
    severity: [0.2, 0.4, 0.3, 0.1],
    titles: [
      '{community}部分居民拟集体赴市上访',
      '{community}重点信访人员动态异常',
      '{community}业主因房产证办理问题拟聚集维权',
      '{road}{company}职工聚集反映诉求',
      '{community}居民就征收安置问题多次越级上访',
    ],
    descriptions: [
      '网格员摸排发现，{community}约{count}名居民因{time}停水停电问题拟集体上访，已做好稳控并上报。',
      '{community}重点信访人员{person}近日情绪不稳定，扬言到市政府上访，网格员已落实包保措施，请求街道跟进。',
      '{company}{count}名职工聚集在{road}厂区门口，反映改制遗留问题，现场秩序基本平稳，需相关部门出面答复。',
    ],
  },
  {
    id: 'public-security',
    name: '治安隐患',
    departmentId: 'dept-police',
    limits: urgent(30, 60, 2 * DAY),
    handlingLevel: 'street',
    weight: 7,
    sources: src({ 'grid-app': 4, hotline: 3, 'video-ai': 3, 'citizen-app': 2, leader: 0.2 }),
    severity: [0.4, 0.38, 0.17, 0.05],
    titles: [
      '{road}路段夜间路灯损坏存在治安隐患',
      '{community}出租房屋人员复杂流动频繁',
      '{community}{building}号楼单元门禁损坏',
      '{road}附近有可疑人员长时间徘徊',
      '{community}地下车库多次发生电动车被盗',
      '{road}一家{shop}疑似聚众赌博',
      '{community}围墙破损存在安全漏洞',
    ],
    descriptions: [
      '{road}约{count}盏路灯损坏，{time}路段漆黑，周边居民反映曾发生抢包事件，存在治安隐患。',
      '{community}{building}号楼多套房屋群租，人员进出频繁且未登记，请求派出所核查流动人口信息。',
      '视频巡查发现{road}{num}号附近有人员{time}反复查看停放车辆，行为可疑，请求民警核查。',
    ],
  },
  {
    id: 'traffic',
    name: '交通秩序',
    departmentId: 'dept-police',
    limits: ordinary(1),
    handlingLevel: 'street',
    weight: 7,
    sources: src({ 'video-ai': 7, 'citizen-app': 2, hotline: 1.5, 'grid-app': 1.5 }),
    severity: [0.6, 0.3, 0.08, 0.02],
    titles: [
      '{road}机动车违停占用消防通道',
      '{road}路口早高峰拥堵严重',
      '{road}非机动车逆行较多',
      '{road}学校门口接送车辆乱停乱放',
      '{road}路口信号灯故障',
      '{road}大货车违规通行',
      '{community}门口共享单车乱停放',
    ],
    descriptions: [
      '视频智能分析发现{road}{num}号附近有{count}辆机动车违停，占用消防通道和公交港湾，请求交警处置。',
      '{time}{road}路口信号灯显示异常，车辆通行混乱，已造成拥堵，请尽快安排维修并疏导交通。',
      '市民反映{road}学校门口上下学时段接送车辆占道停放，学生通行存在安全隐患。',
    ],
  },
  {
    id: 'work-safety',
    name: '安全生产',
    departmentId: 'dept-emergency',
    limits: urgent(30, 60, DAY),
    handlingLevel: 'district',
    weight: 4,
    sources: src({ 'grid-app': 5, hotline: 2, 'video-ai': 1.5, sensor: 1, leader: 0.5 }),
    severity: [0.3, 0.4, 0.22, 0.08],
    titles: [
      '{road}在建工地作业人员未佩戴安全帽',
      '{company}违规存放易燃易爆物品',
      '{community}小作坊存在安全生产隐患',
      '{road}工地塔吊作业未设置警戒区',
      '{road}加油站周边违规动火作业',
      '{company}厂房未配备安全防护设施',
      '{road}一家{shop}违规使用瓶装液化气',
    ],
    descriptions: [
      '网格员巡查发现{company}在车间内堆放油漆、稀料等易燃物品，且未设置防火分隔，存在重大安全隐患。',
      '{road}在建工地高处作业人员未系安全带，塔吊回转半径内未设置警戒区，已现场提醒，请求应急部门督促整改。',
      '{community}一处民房内开设小加工作坊，私拉电线、消防器材缺失，人员住宿与生产混在一起，需联合检查。',
    ],
  },
  {
    id: 'fire-hazard',
    name: '消防隐患',
    departmentId: 'dept-emergency',
    limits: urgent(30, 60, 2 * DAY),
    handlingLevel: 'street',
    weight: 7,
    sources: src({ 'grid-app': 5, 'citizen-app': 2, hotline: 2, sensor: 1.5, 'video-ai': 1 }),
    severity: [0.4, 0.37, 0.18, 0.05],
    titles: [
      '{community}{building}号楼楼道堆放杂物，存在消防隐患',
      '{community}{building}号楼电动车楼道内充电',
      '{community}消防通道被私家车占用',
      '{road}一家{shop}消防设施过期失效',
      '{community}{building}号楼烟感报警',
      '{road}沿街商铺私拉电线飞线充电',
      '{community}小区消防栓损坏无水',
    ],
    descriptions: [
      '{community}{building}号楼{unit}单元楼道内堆放纸箱、旧家具等杂物，阻塞疏散通道，存在消防隐患，需督促清理。',
      '{community}{building}号楼居民将电动车推入楼道充电，{time}存在起火风险，网格员已劝导，请求物业加强管理。',
      '{community}{building}号楼{room}室烟感探测器报警，网格员正赶往现场核实，请求做好处置准备。',
    ],
  },
  {
    id: 'flood',
    name: '防汛',
    departmentId: 'dept-water',
    limits: urgent(15, 30, 4 * 60),
    handlingLevel: 'district',
    weight: 2,
    sources: src({ sensor: 6, 'grid-app': 2, hotline: 1.5, 'video-ai': 1, leader: 0.5 }),
    severity: [0.2, 0.35, 0.3, 0.15],
    titles: [
      '{road}下穿立交积水超过警戒水位',
      '{community}低洼处积水进入居民楼',
      '{road}雨水井盖冒水',
      '{community}河道水位上涨接近警戒线',
      '{road}路段排水不畅积水严重',
      '{community}地下车库进水',
    ],
    descriptions: [
      '水位传感器报警：{road}下穿立交积水深度已超过{count}厘米，请立即封闭道路并组织抽排。',
      '{time}强降雨，{community}{building}号楼附近低洼处积水倒灌进一楼住户，请求排水支援并转移群众。',
      '网格员巡查发现{community}沿河段水位快速上涨，距警戒水位不足半米，请求水务部门加强监测。',
    ],
  },
  {
    id: 'building-safety',
    name: '房屋安全',
    departmentId: 'dept-housing',
    limits: ordinary(3),
    handlingLevel: 'district',
    weight: 3,
    sources: src({ 'grid-app': 5, hotline: 2, 'citizen-app': 1.5, leader: 0.3 }),
    severity: [0.35, 0.4, 0.2, 0.05],
    titles: [
      '{community}{building}号楼外墙瓷砖脱落',
      '{community}老旧平房墙体开裂',
      '{community}{building}号楼阳台出现裂缝',
      '{road}沿街门面擅自拆改承重墙',
      '{community}危房仍有人员居住',
    ],
    descriptions: [
      '{community}{building}号楼外墙瓷砖大面积空鼓，{time}已有脱落，砸坏楼下车辆，存在伤人风险，请求鉴定维修。',
      '{community}村民{person}家老旧平房墙体出现明显裂缝，屋顶漏雨，老人仍在居住，请求房屋安全鉴定。',
      '{road}{num}号门面装修时疑似拆改承重结构，楼上住户担心房屋安全，请求住建部门核查。',
    ],
  },
  {
    id: 'illegal-building',
    name: '违章搭建',
    departmentId: 'dept-urban',
    limits: ordinary(5),
    handlingLevel: 'street',
    weight: 5,
    sources: src({ 'grid-app': 5, 'citizen-app': 2, hotline: 2, 'video-ai': 1, leader: 0.3 }),
    severity: [0.55, 0.33, 0.1, 0.02],
    titles: [
      '{community}{building}号楼顶层私搭乱建',
      '{community}一楼住户违规扩建院墙',
      '{road}沿街商户违规搭建彩钢棚',
      '{community}村民未经审批占地建房',
      '{community}绿地被圈占搭建简易房',
    ],
    descriptions: [
      '{community}{building}号楼顶层住户在屋顶平台搭建约{count}平方米的彩钢房，邻居投诉影响安全和采光。',
      '{road}{num}号商户在门前人行道搭建彩钢雨棚用于经营，占用公共空间，请求城管执法查处。',
      '{community}一处绿地被个人圈占并搭建简易房，网格员已拍照取证，请求街道综合执法队处置。',
    ],
  },
  {
    id: 'street-vending',
    name: '占道经营',
    departmentId: 'dept-urban',
    limits: ordinary(1),
    handlingLevel: 'grid',
    weight: 9,
    sources: src({ 'video-ai': 6, 'grid-app': 4, 'citizen-app': 2, hotline: 1 }),
    severity: [0.75, 0.2, 0.05, 0],
    titles: [
      '{road}流动摊贩占道经营',
      '{road}一家{shop}店外经营占用人行道',
      '{road}早市摊点占道影响通行',
      '{road}夜市烧烤占道经营',
      '{community}门口水果摊占道经营',
      '{road}路口商贩聚集',
    ],
    descriptions: [
      '视频智能分析发现{road}{num}号附近有{count}处流动摊点占用人行道经营，影响行人通行，请求城管劝离。',
      '{road}一家{shop}长期在店外摆放桌椅和货架，占用人行道，多次劝导后仍未整改。',
      '{time}{community}门口聚集多处摊贩，占道经营并产生垃圾，居民反映强烈。',
    ],
  },
  {
    id: 'sanitation',
    name: '环境卫生',
    departmentId: 'dept-urban',
    limits: ordinary(1),
    handlingLevel: 'grid',
    weight: 12,
    sources: src({ 'grid-app': 6, 'citizen-app': 3, hotline: 2, 'video-ai': 2 }),
    severity: [0.78, 0.18, 0.04, 0],
    titles: [
      '{road}垃圾桶满溢未及时清运',
      '{community}绿化带内堆积生活垃圾',
      '{road}路面油污严重',
      '{community}{building}号楼旁建筑垃圾长期未清理',
      '{road}公厕卫生状况差',
      '{community}背街小巷存在卫生死角',
      '{road}沿线小广告乱张贴',
    ],
    descriptions: [
      '{road}{num}号附近垃圾桶满溢，周边散落垃圾，{time}异味明显，请求环卫及时清运。',
      '{community}{building}号楼旁堆放装修建筑垃圾约{count}立方米，长期无人清理，影响环境和通行。',
      '居民{person}反映{community}背街小巷垃圾堆积、污水横流，请求组织清理。',
    ],
  },
  {
    id: 'noise',
    name: '噪音扰民',
    departmentId: 'dept-environment',
    limits: ordinary(2),
    handlingLevel: 'grid',
    weight: 6,
    sources: src({ hotline: 5, 'citizen-app': 3, 'grid-app': 2, sensor: 0.5 }),
    severity: [0.7, 0.25, 0.05, 0],
    titles: [
      '{road}工地夜间违规施工噪音扰民',
      '{community}广场舞音响声音过大',
      '{road}一家{shop}外放音乐扰民',
      '{community}{building}号楼装修噪音影响休息',
      '{road}KTV深夜噪音扰民',
    ],
    descriptions: [
      '市民来电反映{road}在建工地{time}仍在施工，机械噪音很大，影响周边居民休息，请求查处。',
      '{community}广场每晚有{count}支广场舞队伍使用大功率音响，声音过大，居民多次反映未改善。',
      '{road}{num}号{shop}门口长时间大音量外放音乐揽客，周边住户投诉。',
    ],
  },
  {
    id: 'pollution',
    name: '环境污染',
    departmentId: 'dept-environment',
    limits: ordinary(3),
    handlingLevel: 'district',
    weight: 3,
    sources: src({ hotline: 3, 'grid-app': 3, sensor: 1.5, 'citizen-app': 1.5, 'video-ai': 0.5 }),
    severity: [0.45, 0.35, 0.15, 0.05],
    titles: [
      '{road}餐饮店油烟直排',
      '{company}疑似偷排污水',
      '{community}附近露天焚烧垃圾',
      '{road}工地扬尘污染严重',
      '{company}排放刺激性气味',
    ],
    descriptions: [
      '{road}一家{shop}未安装油烟净化设施，油烟直排居民楼，{person}等居民多次投诉。',
      '网格员发现{company}厂区外排水口有黑色污水流入河道，已拍照取证，请求生态环境部门检测。',
      '{road}工地土方作业未覆盖、未洒水降尘，扬尘严重，请求督促整改。',
    ],
  },
  {
    id: 'road-facility',
    name: '道路设施',
    departmentId: 'dept-transport',
    limits: ordinary(3),
    handlingLevel: 'street',
    weight: 5,
    sources: src({ 'grid-app': 4, 'citizen-app': 3, hotline: 2, 'video-ai': 1 }),
    severity: [0.6, 0.3, 0.08, 0.02],
    titles: [
      '{road}路面坑洼破损',
      '{road}井盖缺失',
      '{road}人行道护栏损坏',
      '{road}交通标志牌倾斜',
      '{road}公交站亭破损',
      '{road}桥梁伸缩缝异响',
    ],
    descriptions: [
      '{road}{num}号附近路面出现约{count}平方米坑槽，雨后积水，车辆通行颠簸，存在安全隐患。',
      '{road}{num}号人行道井盖缺失，已临时设置警示，请求尽快补装。',
      '市民反映{road}公交站亭玻璃破碎，存在划伤风险，请求维修。',
    ],
  },
  {
    id: 'utilities',
    name: '供水供电',
    departmentId: 'dept-water',
    limits: ordinary(1),
    handlingLevel: 'street',
    weight: 4,
    sources: src({ hotline: 5, 'citizen-app': 2, 'grid-app': 2, sensor: 1 }),
    severity: [0.5, 0.35, 0.12, 0.03],
    titles: [
      '{community}大面积停水',
      '{road}供水管道破裂',
      '{community}{building}号楼停电',
      '{community}自来水浑浊发黄',
      '{community}水压不足高层无水',
    ],
    descriptions: [
      '{community}{time}起停水，涉及约{count}栋楼，居民未收到停水通知，请求尽快恢复供水。',
      '{road}{num}号附近地下供水管道破裂，路面冒水，请求抢修。',
      '{community}{building}号楼居民反映自来水发黄有异味，请求检测水质。',
    ],
  },
  {
    id: 'food-safety',
    name: '食品安全',
    departmentId: 'dept-market',
    limits: ordinary(3),
    handlingLevel: 'district',
    weight: 3,
    sources: src({ hotline: 4, 'citizen-app': 2, 'grid-app': 2, leader: 0.2 }),
    severity: [0.45, 0.35, 0.15, 0.05],
    titles: [
      '{road}一家{shop}无证经营',
      '{road}一家{shop}出售过期食品',
      '{community}附近流动摊贩售卖来源不明熟食',
      '{road}餐馆后厨卫生条件差',
      '{community}学校周边小卖部售卖三无食品',
    ],
    descriptions: [
      '市民{person}反映在{road}{num}号{shop}购买的食品已过保质期，与商家协商未果，请求市场监管部门查处。',
      '网格员巡查发现{road}一家{shop}未办理食品经营许可证，后厨环境脏乱，请求核查。',
      '{community}附近学校周边小卖部售卖无生产日期的辣条等食品，家长担心学生健康。',
    ],
  },
  {
    id: 'special-groups',
    name: '特殊人群',
    departmentId: 'dept-health',
    limits: urgent(30, 60, DAY),
    handlingLevel: 'street',
    weight: 2,
    sources: src({ 'grid-app': 6, hotline: 1.5, leader: 0.5 }),
    severity: [0.3, 0.4, 0.22, 0.08],
    titles: [
      '{community}严重精神障碍患者病情不稳定',
      '{community}社区矫正对象未按时报到',
      '{community}刑满释放人员生活困难需帮扶',
      '{community}精神障碍患者未按时服药',
      '{community}吸毒康复人员动态异常',
    ],
    descriptions: [
      '网格员走访发现{community}{building}号楼在册严重精神障碍患者{person}近期情绪激动、拒绝服药，家属无力管控，请求联合处置。',
      '{community}社区矫正对象{person}已{count}天未按规定报到，电话无人接听，请求司法所核查。',
      '{community}刑满释放人员{person}无固定收入，生活困难，请求落实安置帮教措施。',
    ],
  },
  {
    id: 'social-assistance',
    name: '社会救助',
    departmentId: 'dept-civil',
    limits: ordinary(3),
    handlingLevel: 'street',
    weight: 3,
    sources: src({ 'grid-app': 5, hotline: 2, 'citizen-app': 1 }),
    severity: [0.5, 0.35, 0.12, 0.03],
    titles: [
      '{community}独居老人生活无人照料',
      '{community}困难家庭申请临时救助',
      '{community}残疾人家庭生活困难',
      '{road}发现流浪乞讨人员',
      '{community}留守儿童需关爱帮扶',
    ],
    descriptions: [
      '网格员走访发现{community}{building}号楼独居老人{person}行动不便，无人照料，请求落实居家养老服务。',
      '{community}居民{person}家庭成员患重病，医疗费用负担重，申请临时救助。',
      '{time}在{road}{num}号附近发现一名流浪人员，衣着单薄，请求救助站接送。',
    ],
  },
  {
    id: 'other',
    name: '其他',
    departmentId: 'dept-civil',
    limits: ordinary(5),
    handlingLevel: 'street',
    weight: 3,
    sources: src({ hotline: 4, 'citizen-app': 2, 'grid-app': 2, leader: 0.3 }),
    severity: [0.7, 0.25, 0.05, 0],
    titles: [
      '{community}居民咨询政策办理事项',
      '{community}流浪猫狗较多影响居民生活',
      '{road}树木枝杈遮挡影响通行',
      '{community}居民反映快递柜设置不合理',
    ],
    descriptions: [
      '居民{person}来电咨询{community}老旧小区改造相关政策，请求相关部门答复。',
      '{community}{building}号楼附近流浪猫狗较多，夜间吵闹并有伤人风险，居民请求处理。',
      '{road}{num}号附近行道树枝杈过长，遮挡交通标志和路灯，请求修剪。',
    ],
  },
];

const CATEGORY_BY_ID = new Map(CATEGORIES.map((c) => [c.id, c]));

export function categoryById(id: string): EventCategory {
  const c = CATEGORY_BY_ID.get(id);
  if (!c) throw new Error(`Unknown event category "${id}"`);
  return c;
}

/** 权责清单: one row per category. */
export function rulesFromCatalog(): ResponsibilityRule[] {
  return CATEGORIES.map((c) => ({
    category: c.id,
    categoryName: c.name,
    departmentId: c.departmentId,
    limits: { ...c.limits },
    handlingLevel: c.handlingLevel,
  }));
}

/** A category drawn by frequency, optionally conditioned on the source (weight × source affinity). */
export function pickCategory(rng: Rng, source?: EventSource): EventCategory {
  const items = CATEGORIES.map((c) => [c, source ? c.weight * c.sources[source] : c.weight] as const);
  return rng.weighted(items);
}

export function pickSource(rng: Rng, category: EventCategory): EventSource {
  return rng.weighted(Object.entries(category.sources) as Array<[EventSource, number]>);
}

export function pickSeverity(rng: Rng, category: EventCategory): number {
  return rng.weighted(category.severity.map((p, i) => [i + 1, p] as const));
}

export interface EventPlace {
  districtName: string;
  streetName: string;
  communityName: string;
  roadName: string;
}

const SHOPS = ['便利店', '超市', '餐馆', '烧烤店', '小吃店', '水果店', '理发店', '五金店', '汽修店', '药店', '网吧', '快递驿站', '火锅店', '早餐店', '棋牌室', '洗浴中心'];
const COMPANY_ROOTS = ['鑫源', '华泰', '恒通', '宏达', '金盛', '永安', '瑞丰', '天成', '联华', '嘉禾', '众诚', '广汇'];
const COMPANY_KINDS = ['建筑工程有限公司', '物流有限公司', '机械加工厂', '化工有限公司', '装饰工程公司', '食品有限公司', '家具厂', '商贸有限公司', '纺织厂'];
const TIMES = ['凌晨', '夜间', '傍晚', '上午', '中午', '下午', '近日', '今日'];

type EventVars = Record<
  'district' | 'street' | 'community' | 'road' | 'building' | 'unit' | 'room' | 'num' | 'shop' | 'company' | 'person' | 'count' | 'time',
  string
>;

/** All placeholder values for one event, drawn at once (a fixed number of draws) so title and description agree. */
function eventVars(rng: Rng, place: EventPlace): EventVars {
  return {
    district: place.districtName,
    street: place.streetName,
    community: place.communityName,
    road: place.roadName,
    building: String(rng.int(1, 32)),
    unit: String(rng.int(1, 6)),
    room: `${rng.int(1, 18)}0${rng.int(1, 4)}`,
    num: String(rng.int(1, 320)),
    shop: rng.pick(SHOPS),
    company: rng.pick(COMPANY_ROOTS) + rng.pick(COMPANY_KINDS),
    person: anonymisedPerson(rng),
    count: String(rng.int(2, 30)),
    time: rng.pick(TIMES),
  };
}

function fill(template: string, vars: EventVars): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in vars ? vars[key as keyof EventVars] : whole));
}

/** A title, a description and an address for an event of this category at this place. */
export function eventContent(
  rng: Rng,
  category: EventCategory | string,
  place: EventPlace,
): { title: string; description: string; address: string } {
  const cat = typeof category === 'string' ? categoryById(category) : category;
  const vars = eventVars(rng, place);
  return {
    title: fill(rng.pick(cat.titles), vars),
    description: fill(rng.pick(cat.descriptions), vars),
    address: `${place.districtName}${place.streetName}${place.communityName}${place.roadName}${vars.num}号`,
  };
}
